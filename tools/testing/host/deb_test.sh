#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deb_test - the Debian packages, end to end.  On the host: make deb
# (dpkg-buildpackage, then lintian, which must find no error), and DKMS
# builds the modules from the pmem-rdma-dkms package's tree (dkms add and
# build in trees of this test's own, for each kernel line's kernel, 6.1 and
# 6.12; the binaries leave as a DKMS binaries-only tarball).  DKMS takes rxe
# from the line's linux-source at build time; its stand-ins here hold only
# the setup's rxe: one as new as the kernel (the build), and for 6.1 one
# older (refused in one line) and one newer whose rxe the series does not
# fit (refused too).  In a VM of each line (deb_vm.sh): the four packages
# and the stand-in linux-source installed with dpkg, DKMS installs those
# modules, they are loaded, one log record is FLUSHed through the
# installed pmrdmactl, pmlog and libpmrdma, then the packages are purged
# and nothing is left.
set -uo pipefail

top=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$top" || exit 1
cache=${PMEM_RDMA_CACHE:-$top/.cache}
w=$top/build/deb-test
rm -rf "$w"
mkdir -p "$w/root" "$w/dkms"
fail() { echo "  FAILED: $*"; exit 1; }

make -s deb >"$w/deb.log" 2>&1 || { tail -n 20 "$w/deb.log"; fail "make deb"; }
echo "  ok: make deb, lintian: $(grep -c '^E:' build/deb/lintian.log) errors, $(grep -c '^W:' build/deb/lintian.log) warnings"

version=$(cd build/deb && ls pmem-rdma-dkms_*_all.deb | sed 's/^pmem-rdma-dkms_\(.*\)_all.deb$/\1/')
dkms_deb=build/deb/pmem-rdma-dkms_${version}_all.deb
dpkg-deb -f "$dkms_deb" Depends | grep -F 'linux-source-6.1 | linux-source-6.12' >/dev/null ||
	fail "pmem-rdma-dkms does not depend on a linux-source of either line: $(dpkg-deb -f "$dkms_deb" Depends)"
dpkg-deb -x "$dkms_deb" "$w/root" || fail "dpkg-deb -x"
[ -z "$(find "$w/root" -name rxe_comp.c)" ] || fail "pmem-rdma-dkms carries a copy of rxe"

o=(--dkmstree "$w/dkms" --sourcetree "$w/root/usr/src")
dkms add -m pmem-rdma -v "$version" "${o[@]}" >"$w/dkms.log" 2>&1 ||
	{ tail -n 20 "$w/dkms.log"; fail "dkms add"; }
rxe=drivers/infiniband/sw/rxe

# DKMS for LINE's kernel (its setup's KVER, KDIR, LINUX_SRC), then the VM
dkms_line() {	# LINE
	local line=$1 env=$cache/setup.env pkg=linux-source-$1 kpkgver sub older newer d n
	[ "$line" = 6.1 ] || env=$cache/setup-$line.env
	# shellcheck source=/dev/null
	. "$env" || fail "no setup for $line"

	# stand-ins: VERSION and an rxe directory make $w/$pkg-VERSION.tar.xz
	linux_source() {	# VERSION RXE_DIR
		local d=$w/ls-$line-$1
		mkdir -p "$d/src/$pkg/${rxe%/*}"
		cp -r "$2" "$d/src/$pkg/$rxe"
		tar -cJf "$w/$pkg-$1.tar.xz" -C "$d/src" "$pkg"
	}
	dkms_build() {	# LINUX_SOURCE_VERSION: dkms build against that stand-in
		LINUX_SOURCE_TARBALL=$w/$pkg-$1.tar.xz LINUX_SOURCE_VERSION=$1 \
			dkms build -m pmem-rdma -v "$version" -k "$KVER" --kernelsourcedir "$KDIR" "${o[@]}"
	}
	# refused before anything is compiled, the reason in make.log
	refused() {	# LINUX_SOURCE_VERSION LINE
		local log=$w/dkms/pmem-rdma/$version/build/make.log
		dkms_build "$1" >"$w/dkms-$1.log" 2>&1 && fail "dkms built with $pkg $1"
		grep -qxF -- "$2" "$log" || { tail -n 5 "$log"; fail "no \"$2\" in make.log"; }
		echo "  ok: refused: $2"
	}
	kpkgver=$(dpkg-query -W -f='${Version}' "linux-headers-$KVER")
	linux_source "$kpkgver" "$LINUX_SRC/$rxe"
	if [ "$line" = 6.1 ]; then
		sub=${kpkgver%%-*} && sub=${sub##*.}
		older=6.1.$((sub - 1))-1 newer=6.1.$((sub + 1))-1
		linux_source "$older" "$LINUX_SRC/$rxe"
		# a newer rxe that moved on: every line changed, no hunk finds its context
		cp -r "$LINUX_SRC/$rxe" "$w/rxe-moved" && sed -i 's/^/ /' "$w/rxe-moved"/*.[ch]
		linux_source "$newer" "$w/rxe-moved"
		local msg="rdma_rxe_flush: $pkg $older is older than kernel $KVER ($kpkgver); install $pkg >= $kpkgver"
		refused "$older" "$msg"
		# and said on dkms's own output as well (PRE_BUILD), not only in make.log
		grep -qF -- "$msg" "$w/dkms-$older.log" ||
			{ cat "$w/dkms-$older.log"; fail "dkms build did not say why it refused"; }
		refused "$newer" "rdma_rxe_flush: the patch series does not apply to the rxe of $pkg $newer; this pmem-rdma is too old for it"
	fi
	d=$w/ls-$line-$kpkgver/pkg
	mkdir -p "$d/DEBIAN" "$d/usr/src"
	cp "$w/$pkg-$kpkgver.tar.xz" "$d/usr/src/$pkg.tar.xz"
	printf '%s\n' "Package: $pkg" "Version: $kpkgver" "Architecture: all" \
		"Maintainer: pmem-rdma deb_test <dev@pmem-rdma.invalid>" \
		"Description: deb_test's stand-in: only rxe" >"$d/DEBIAN/control"
	dpkg-deb -b "$d" "$w/${pkg}_${kpkgver}_all.deb" >/dev/null || fail "stand-in .deb"

	{ dkms_build "$kpkgver" &&
	  dkms mktarball -m pmem-rdma -v "$version" -k "$KVER" --binaries-only \
		--archive "$w/modules-$line.dkms.tar.gz" "${o[@]}"; } >>"$w/dkms.log" 2>&1 ||
		{ tail -n 20 "$w/dkms.log"; fail "dkms build for $KVER"; }
	grep -qxF "rdma_rxe_flush: rxe from $pkg $kpkgver for kernel $KVER ($kpkgver)" \
		"$w/dkms/pmem-rdma/$version/$KVER/x86_64/log/make.log" ||
		fail "the build did not take rxe from $pkg"
	# both modules; 6.12's compressed (.ko.xz) as its kernel's own are
	n=$(tar -tzf "$w/modules-$line.dkms.tar.gz" | grep -cE '\.ko(\.xz|\.zst)?$')
	[ "$n" = 2 ] || fail "dkms built $n modules for $KVER, not 2"
	echo "  ok: dkms built $n modules for $KVER, rxe from $pkg $kpkgver"

	echo "$w/${pkg}_${kpkgver}_all.deb" >"$w/linux-source-$line.deb-path"
}

# the VM of LINE: install, load, FLUSH, purge (deb_vm.sh); its log in
# $w/vm-LINE.log.  One vCPU: the two lines' VMs run side by side, each
# mostly in depmod, which uses one.
deb_vm() {	# LINE
	# shellcheck disable=SC2046
	PMEM_RDMA_KERNEL=$1 scripts/vm-run --smp 1 --timeout 900 -- \
		"$top/tools/testing/host/deb_vm.sh" "$w/modules-$1.dkms.tar.gz" \
		"$version" $(ls build/deb/*.deb | grep -v -- -dbgsym_) \
		"$(cat "$w/linux-source-$1.deb-path")" >"$w/vm-$1.log" 2>&1
}

lines=${PMEM_RDMA_TEST_KERNELS:-6.1 6.12}
for line in $lines; do
	echo "  the $line kernel: DKMS"
	dkms_line "$line"
done
pids=()
for line in $lines; do
	deb_vm "$line" &
	pids+=($!)
done
rc=0 i=0
for line in $lines; do
	wait "${pids[$i]}" || rc=1
	i=$((i + 1))
	echo "  the $line kernel: in its VM"
	cat "$w/vm-$line.log"
done
[ "$rc" = 0 ] || fail "in a VM"
