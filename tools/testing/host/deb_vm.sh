#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deb_vm - deb_test's part in the VM (see deb_test.sh), run by vm-run.
#
# Usage: deb_vm.sh DKMS_TARBALL VERSION DEB...
set -uo pipefail

tarball=${1:?} version=${2:?}
shift 2
kver=$(uname -r)
# ours, and deb_test's stand-in linux-source of this kernel's line, which
# pmem-rdma-dkms depends on
case $kver in
6.12.*) src=linux-source-6.12 ;;
*) src=linux-source-6.1 ;;
esac
pkgs=(pmem-rdma-tools libpmrdma-dev libpmrdma0 pmem-rdma-dkms "$src")
fail() { echo "  FAILED: $*"; exit 1; }
ok() { echo "  ok: $*"; }

# no udev here: dkms needs /dev/fd; man-db's trigger would index every
# page under TCG, minutes, for nothing
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
rm -f /var/lib/man-db/auto-update

# the build tree's modules, loaded by vm-guest, make way
rdma link delete rxe0 2>/dev/null
rmmod pmem_rdma rdma_rxe_flush || fail "cannot unload the build tree's modules"

dpkg -i "$@" >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log; fail "dpkg -i"; }
ok "dpkg -i ${*##*/} (${SECONDS} s)"
for p in "${pkgs[@]}"; do dpkg -L "$p"; done | sort -u >/tmp/files
# the package's postinst added the module to DKMS; the kernel has no
# headers here (no /lib/modules/$kver/build), so it built nothing.  The
# DKMS build happened on the host, for this kernel: DKMS loads its
# binaries (ldtarball adds the module itself, so it is removed first)
# and installs them
dkms status -m pmem-rdma -v "$version" | grep "pmem-rdma/$version: added" >/dev/null ||
	fail "the postinst did not dkms add: $(dkms status)"
{ dkms remove -m pmem-rdma -v "$version" --all &&
  dkms ldtarball "$tarball" &&
  dkms install -m pmem-rdma -v "$version" -k "$kver"; } >/tmp/dkms.log 2>&1 ||
	{ cat /tmp/dkms.log; fail "dkms install"; }
dkms status -m pmem-rdma | grep "$kver.*installed" >/dev/null || fail "dkms status: $(dkms status)"
ok "dkms install: $(dkms status -m pmem-rdma) (${SECONDS} s)"

modprobe rdma_rxe_flush && modprobe pmem_rdma || fail "modprobe of the DKMS modules"
for m in rdma_rxe_flush pmem_rdma; do
	case $(modinfo -n $m) in
	*/updates/dkms/*) ;;
	*) fail "$m came from $(modinfo -n $m), not DKMS" ;;
	esac
done
rdma link add rxe0 type rxe netdev d0 || fail "rdma link add"
ok "modprobe: $(modinfo -n rdma_rxe_flush | sed 's|.*/lib/modules/||'), pmem_rdma"

# one FLUSH through the installed commands and library
addr=$(ip -6 -o addr show dev d0 scope link | awk '{print $4}' | cut -d/ -f1 | head -1)%d0
/usr/sbin/pmrdmactl export -p "$PMEM_RDMA_PMEM" -l 2M -P 7811 -A any >/dev/null ||
	fail "pmrdmactl export"
cnt=/sys/class/infiniband/rxe0/ports/1/hw_counters/flush_rcvd
before=$(cat $cnt)
{ /usr/bin/pmlog format -a "$addr" -P 7811 -s 64 &&
  /usr/bin/pmlog write -a "$addr" -P 7811 -n 1 &&
  /usr/bin/pmlog recover -a "$addr" -P 7811; } >/tmp/pmlog.log 2>&1 ||
	{ cat /tmp/pmlog.log; fail "pmlog on the installed library"; }
flushes=$(($(cat $cnt) - before))
[ "$flushes" -gt 0 ] || fail "no FLUSH reached rxe0"
ldd /usr/bin/pmlog | grep "libibverbs.so.1 => /usr/lib/x86_64-linux-gnu/pmem-rdma/" >/dev/null ||
	fail "pmlog does not use the private libibverbs: $(ldd /usr/bin/pmlog | grep verbs)"
ok "pmlog: a record FLUSHed and recovered ($flushes FLUSH received), over $(ldd /usr/bin/pmlog | awk '/libibverbs/ {print $3}')"

/usr/sbin/pmrdmactl unexport 1 >/dev/null
rdma link delete rxe0
rmmod pmem_rdma rdma_rxe_flush || fail "rmmod"
dpkg --purge "${pkgs[@]}" >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log; fail "dpkg --purge"; }
left=$(while read -r f; do [ -e "$f" ] && [ ! -d "$f" ] && echo "$f"; done </tmp/files)
[ -z "$left" ] || fail "left behind: $left"
for f in /usr/src/pmem-rdma-"$version" /var/lib/dkms/pmem-rdma \
	 /lib/modules/"$kver"/updates/dkms/rdma_rxe_flush.ko \
	 /lib/modules/"$kver"/updates/dkms/pmem_rdma.ko /usr/lib/x86_64-linux-gnu/pmem-rdma; do
	[ -e "$f" ] && { find "$f" | head; cat /tmp/dpkg.log; fail "left behind: $f"; }
done
modinfo -n rdma_rxe_flush >/dev/null 2>&1 && fail "rdma_rxe_flush still known to modprobe"
ok "dpkg --purge: nothing left ($(wc -l </tmp/files) paths checked)"
exit 0
