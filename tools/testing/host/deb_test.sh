#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deb_test - the Debian packages, end to end.  On the host: make deb
# (dpkg-buildpackage, then lintian, which must find no error), and DKMS
# builds the modules from the pmem-rdma-dkms package's tree (dkms add and
# build in trees of this test's own, for the VM's kernel; the binaries
# leave as a DKMS binaries-only tarball).  DKMS takes rxe from
# linux-source-6.1 at build time; its stand-ins here hold only the setup's
# rxe: one as new as the kernel (the build), one older (refused in one
# line) and one newer whose rxe the series does not fit (refused too).  In
# the VM (deb_vm.sh): the four packages and the stand-in linux-source-6.1
# installed with dpkg, DKMS installs those modules, they are loaded, one
# log record is FLUSHed through the installed pmrdmactl, pmlog and
# libpmrdma, then the packages are purged and nothing is left.
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
dkms_deb=build/deb/pmem-rdma-dkms_${version}_all.deb
dpkg-deb -f "$dkms_deb" Depends | grep -qw linux-source-6.1 ||
	fail "pmem-rdma-dkms does not depend on linux-source-6.1: $(dpkg-deb -f "$dkms_deb" Depends)"
dpkg-deb -x "$dkms_deb" "$w/root" || fail "dpkg-deb -x"
[ -z "$(find "$w/root" -name rxe_comp.c)" ] || fail "pmem-rdma-dkms carries a copy of rxe"

# linux-source-6.1 stand-ins: VERSION and an rxe directory make
# $w/linux-source-VERSION.tar.xz; the kernel's as well a .deb for the VM
rxe=drivers/infiniband/sw/rxe
linux_source() {	# VERSION RXE_DIR
	local d=$w/ls-$1
	mkdir -p "$d/src/linux-source-6.1/${rxe%/*}"
	cp -r "$2" "$d/src/linux-source-6.1/$rxe"
	tar -cJf "$w/linux-source-$1.tar.xz" -C "$d/src" linux-source-6.1
}
kpkgver=$(dpkg-query -W -f='${Version}' "linux-headers-$KVER")
sub=${kpkgver%%-*} && sub=${sub##*.}
older=6.1.$((sub - 1))-1 newer=6.1.$((sub + 1))-1
linux_source "$kpkgver" "$LINUX_SRC/$rxe"
linux_source "$older" "$LINUX_SRC/$rxe"
# a newer rxe that moved on: every line changed, no hunk finds its context
cp -r "$LINUX_SRC/$rxe" "$w/rxe-moved" && sed -i 's/^/ /' "$w/rxe-moved"/*.[ch]
linux_source "$newer" "$w/rxe-moved"
d=$w/ls-$kpkgver/pkg
mkdir -p "$d/DEBIAN" "$d/usr/src"
cp "$w/linux-source-$kpkgver.tar.xz" "$d/usr/src/linux-source-6.1.tar.xz"
printf '%s\n' "Package: linux-source-6.1" "Version: $kpkgver" "Architecture: all" \
	"Maintainer: pmem-rdma deb_test <dev@pmem-rdma.invalid>" \
	"Description: deb_test's stand-in: only rxe" >"$d/DEBIAN/control"
dpkg-deb -b "$d" "$w/linux-source-6.1_${kpkgver}_all.deb" >/dev/null || fail "stand-in .deb"

o=(--dkmstree "$w/dkms" --sourcetree "$w/root/usr/src")
dkms_build() {	# LINUX_SOURCE_VERSION: dkms build against that stand-in
	LINUX_SOURCE_TARBALL=$w/linux-source-$1.tar.xz LINUX_SOURCE_VERSION=$1 \
		dkms build -m pmem-rdma -v "$version" -k "$KVER" --kernelsourcedir "$KDIR" "${o[@]}"
}
dkms add -m pmem-rdma -v "$version" "${o[@]}" >"$w/dkms.log" 2>&1 ||
	{ tail -n 20 "$w/dkms.log"; fail "dkms add"; }
# refused before anything is compiled, the reason in make.log
refused() {	# LINUX_SOURCE_VERSION LINE
	local log=$w/dkms/pmem-rdma/$version/build/make.log
	dkms_build "$1" >"$w/dkms-$1.log" 2>&1 && fail "dkms built with linux-source-6.1 $1"
	grep -qxF -- "$2" "$log" || { tail -n 5 "$log"; fail "no \"$2\" in make.log"; }
	echo "  ok: refused: $2"
}
line="rdma_rxe_flush: linux-source-6.1 $older is older than kernel $KVER ($kpkgver); install linux-source-6.1 >= $kpkgver"
refused "$older" "$line"
# and said on dkms's own output as well (PRE_BUILD), not only in make.log
grep -qF -- "$line" "$w/dkms-$older.log" ||
	{ cat "$w/dkms-$older.log"; fail "dkms build did not say why it refused"; }
refused "$newer" "rdma_rxe_flush: the patch series does not apply to the rxe of linux-source-6.1 $newer; this pmem-rdma is too old for it"
{ dkms_build "$kpkgver" &&
  dkms mktarball -m pmem-rdma -v "$version" -k "$KVER" --binaries-only \
	--archive "$w/modules.dkms.tar.gz" "${o[@]}"; } >>"$w/dkms.log" 2>&1 ||
	{ tail -n 20 "$w/dkms.log"; fail "dkms build"; }
grep -qxF "rdma_rxe_flush: rxe from linux-source-6.1 $kpkgver for kernel $KVER ($kpkgver)" \
	"$w/dkms/pmem-rdma/$version/$KVER/x86_64/log/make.log" || fail "the build did not take rxe from linux-source-6.1"
echo "  ok: dkms built $(tar -tzf "$w/modules.dkms.tar.gz" | grep -c '\.ko$') modules for $KVER, rxe from linux-source-6.1 $kpkgver"

scripts/vm-run --timeout 900 -- "$top/tools/testing/host/deb_vm.sh" "$w/modules.dkms.tar.gz" \
	"$version" $(ls build/deb/*.deb | grep -v -- -dbgsym_) "$w/linux-source-6.1_${kpkgver}_all.deb"
