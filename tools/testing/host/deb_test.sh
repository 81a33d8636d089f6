#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deb_test - the Debian packages, end to end.  On the host: make deb
# (dpkg-buildpackage, then lintian, which must find no error), and DKMS
# builds the modules from the pmem-rdma-dkms package's tree (dkms add and
# build in trees of this test's own, for the VM's kernel; the binaries
# leave as a DKMS binaries-only tarball).  In the VM (deb_vm.sh): the four
# packages installed with dpkg, DKMS installs those modules, they are
# loaded, one log record is FLUSHed through the installed pmrdmactl, pmlog
# and libpmrdma, then the packages are purged and nothing is left.
set -uo pipefail

top=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$top" || exit 1
# shellcheck source=/dev/null
. "${PMEM_RDMA_CACHE:-$top/.cache}/setup.env"
w=$top/build/deb-test
rm -rf "$w"
mkdir -p "$w/root" "$w/dkms"
fail() { echo "  FAILED: $*"; exit 1; }

make -s deb >"$w/deb.log" 2>&1 || { tail -n 20 "$w/deb.log"; fail "make deb"; }
echo "  ok: make deb, lintian: $(grep -c '^E:' build/deb/lintian.log) errors, $(grep -c '^W:' build/deb/lintian.log) warnings"

version=$(cd build/deb && ls pmem-rdma-dkms_*_all.deb | sed 's/^pmem-rdma-dkms_\(.*\)_all.deb$/\1/')
dpkg-deb -x build/deb/pmem-rdma-dkms_"${version}"_all.deb "$w/root" || fail "dpkg-deb -x"
o=(--dkmstree "$w/dkms" --sourcetree "$w/root/usr/src")
{ dkms add -m pmem-rdma -v "$version" "${o[@]}" &&
  dkms build -m pmem-rdma -v "$version" -k "$KVER" --kernelsourcedir "$KDIR" "${o[@]}" &&
  dkms mktarball -m pmem-rdma -v "$version" -k "$KVER" --binaries-only \
	--archive "$w/modules.dkms.tar.gz" "${o[@]}"; } >"$w/dkms.log" 2>&1 ||
	{ tail -n 20 "$w/dkms.log"; fail "dkms build"; }
echo "  ok: dkms built $(tar -tzf "$w/modules.dkms.tar.gz" | grep -c '\.ko$') modules for $KVER"

scripts/vm-run --timeout 900 -- "$top/tools/testing/host/deb_vm.sh" "$w/modules.dkms.tar.gz" \
	"$version" $(ls build/deb/*.deb | grep -v -- -dbgsym_)
