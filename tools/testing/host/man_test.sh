#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# man_test - the man pages (make man, build/man): every one renders with
# no warning and parses for whatis (Documentation/man/check-man), and
# every call libpmrdma and librxe export, and every command installed,
# has one.
set -uo pipefail

top=$(cd "$(dirname "$0")/../../.." && pwd)
man=$top/build/man
"$top/Documentation/man/check-man" "$man" || exit 1

# the exported names: the version scripts' global entries
exported() {	# MAP
	sed -n '/global:/,/local:/p' "$1" | grep -o '^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*;' |
		tr -d ' \t;'
}
missing=0
for f in $(exported "$top/tools/lib/pmrdma/libpmrdma.map") \
	 $(exported "$top/build/rdma-core-src/providers/rxe/librxe.map"); do
	[ -e "$man/man3/$f.3" ] || { echo "man_test: no page for $f(3)"; missing=1; }
done
for p in man8/pmrdmactl.8 man8/pmrdmactl-serve.8 man1/pmlog.1 man7/pmrdma.7 man7/rxe_flush.7; do
	[ -e "$man/$p" ] || { echo "man_test: no page $p"; missing=1; }
done
[ "$missing" = 0 ] && echo "man_test: a page for every exported call and every command"
exit $missing
