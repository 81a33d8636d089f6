#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# install_test - make install into a DESTDIR, then, with pkg-config only:
# a program on libpmrdma and one on the patched verbs (rxe_flush_dv.h)
# build against the installed tree and run on it; the library exports its
# ABI only, versioned, with its soname and its RUNPATH to the private
# rdma-core; the installed commands are on it and on nothing of the
# selftests; make uninstall leaves nothing behind.
set -uo pipefail

top=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$top" || exit 1
d=$(mktemp -d /tmp/install_test.XXXXXX)
trap 'rm -rf "$d"' EXIT
root=$d/root libdir=/usr/lib/x86_64-linux-gnu
fails=0
check() {	# WHAT COMMAND...
	local what=$1
	shift
	if "$@" >"$d/out" 2>&1; then
		echo "  ok: $what"
	else
		echo "  FAILED: $what"
		sed 's/^/    /' "$d/out" | head -20
		fails=$((fails + 1))
	fi
}

# no LIBDIR: PREFIX=/usr takes the multiarch directory, as Debian's libraries
check "make install" make -s install DESTDIR="$root" PREFIX=/usr
lib=$root$libdir/libpmrdma.so.0
check "soname libpmrdma.so.0" sh -c "readelf -d '$lib' | grep -q 'SONAME.*\[libpmrdma.so.0\]'"
check "RUNPATH is the private rdma-core" \
	sh -c "readelf -d '$lib' | grep -q 'RUNPATH.*\[$libdir/pmem-rdma\]'"
# a library nm cannot read (or that is missing) exports nothing: a failure
exports=$(nm -D --defined-only "$lib" | awk '{print $3}') || exports=
check "the library exports pmrdma_map_new" sh -c "echo '$exports' | grep -q '^pmrdma_map_new@@'"
check "every export is versioned PMRDMA_0.1" sh -c "
	echo '$exports' | grep -v '^PMRDMA_0.1$' | grep -v '@@PMRDMA_0.1$' | { ! grep .; }"
check "the connection layer is not exported" \
	sh -c "! echo '$exports' | grep -q -e pmrdma_conn_ -e pmrdma_link_"
check "the patched provider is there" test -e "$root$libdir/pmem-rdma/libibverbs/librxe-rdmav34.so"
# the installed commands build on the library, never on the selftests' helpers
for cmd in sbin/pmrdmactl bin/pmlog libexec/pmem-rdma/rdma_write_read; do
	f=$root/usr/$cmd
	check "${cmd##*/} is on libpmrdma.so.0 with no selftest helper (pt_*)" sh -c "
		readelf -d '$f' | grep -q 'NEEDED.*\[libpmrdma.so.0\]' ||
			{ echo 'no NEEDED libpmrdma.so.0'; exit 1; }
		nm '$f' | grep -q ' T main\$' || { echo 'no symbols to look at'; exit 1; }
		! nm '$f' | grep ' pt_'"
done

export PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_LIBDIR=$root$libdir/pkgconfig
cat >"$d/map.c" <<'C'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <pmrdma.h>

int main(void)
{
	struct pmrdma_config *cfg;
	struct pmrdma_map *map;
	int ret;

	if (pmrdma_config_new(&cfg))
		return 2;
	pmrdma_config_set_path(cfg, "/nonexistent/pmem");
	ret = pmrdma_map_new(&map, cfg);
	pmrdma_config_delete(&cfg);
	printf("%d %s\n", ret, pmrdma_errormsg(NULL));
	return ret == -ENOENT ? 0 : 1;
}
C
cat >"$d/dv.c" <<'C'
#include <stdio.h>
#include <infiniband/verbs.h>
#include <infiniband/rxe_flush_dv.h>

int main(void)
{
	int n = 0;
	struct ibv_device **l = ibv_get_device_list(&n);

	/* no RDMA device here: the calls link and run */
	printf("%d devices, %s\n", n,
	       n && rxe_flush_dv_is_supported(l[0]) ? "rxe_flush" : "no rxe_flush");
	if (l)
		ibv_free_device_list(l);
	return 0;
}
C
check "libpmrdma.pc finds the private rdma-core under \${libdir}" sh -c "
	pkg-config --define-variable=libdir=/elsewhere --static --libs libpmrdma >'$d/pc' &&
	cat '$d/pc' && grep -q -- '-L[^ ]*/elsewhere/pmem-rdma\( \|$\)' '$d/pc' &&
	grep -q -- '-Wl,-rpath,/elsewhere/pmem-rdma\( \|$\)' '$d/pc'"
# libpmrdma.so needs the private librxe.so.1 (the rxe_flush direct verbs),
# which ld finds through its RUNPATH once installed; under DESTDIR,
# -rpath-link stands in for that path, as LD_LIBRARY_PATH does below
check "pkg-config libpmrdma builds a program" sh -c \
	"cc -std=c11 -Wall -Werror \$(pkg-config --cflags libpmrdma) -o '$d/map' '$d/map.c' \$(pkg-config --libs libpmrdma) -Wl,-rpath-link,'$root$libdir/pmem-rdma'"
check "pkg-config libpmrdma builds the documentation's example" sh -c \
	"cc -std=c11 -Wall -Wextra -Werror \$(pkg-config --cflags libpmrdma) -o '$d/replicated_log' '$top/Documentation/examples/replicated_log.c' \$(pkg-config --libs libpmrdma) -Wl,-rpath-link,'$root$libdir/pmem-rdma'"
check "pkg-config pmem-rdma-verbs builds a program" sh -c \
	"cc -std=c11 -Wall -Werror \$(pkg-config --cflags pmem-rdma-verbs) -o '$d/dv' '$d/dv.c' \$(pkg-config --libs pmem-rdma-verbs)"
# the uapi headers as a peer includes them: alone, even in C89
check "the installed linux/pmem_rdma*.h stand alone" sh -c "
	for h in linux/pmem_rdma.h linux/pmem_rdma_connect.h; do
		echo \"#include <\$h>\" | cc -std=c89 -pedantic -Wall -Werror -fsyntax-only \
			-I'$root/usr/include' -x c - || exit 1
	done"
# run them on the installed tree (LD_LIBRARY_PATH stands in for the real paths)
run="env LD_LIBRARY_PATH=$root$libdir/pmem-rdma:$root$libdir"
check "the libpmrdma program runs: -ENOENT and a message" sh -c "$run '$d/map' | grep -q '^-2 .'"
check "the dv program runs" $run "$d/dv"
check "its libibverbs is the private one" sh -c \
	"$run ldd '$d/map' | grep 'libibverbs.so.1 => $root$libdir/pmem-rdma/'"
check "man pages installed" test -e "$root/usr/share/man/man3/pmrdma_flush.3"
check "make uninstall" make -s uninstall DESTDIR="$root" PREFIX=/usr
check "nothing left behind but PREFIX" sh -c "cd '$root' && ! find . -mindepth 1 ! -path ./usr | grep ."
[ "$fails" = 0 ]
