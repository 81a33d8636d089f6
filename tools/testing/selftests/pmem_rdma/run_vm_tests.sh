#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every pmem_rdma selftest, then rdma-core's suite, inside the test VM
# (scripts/vm-run); with --not-once, on a second kernel line, all but the
# programs whose kernel paths others cover (the Makefile's ONCE_PROGS).  Output is kselftest-style TAP: one top-level result per
# program, each program's own TAP nested behind "# ".  The last line,
# "# pmem_rdma totals: pass=P fail=F skip=S", counts every individual test;
# scripts/run-tests reads it.

here=$(cd "$(dirname "$0")" && pwd)
top=${PMEM_RDMA_TOP:-$(cd "$here/../../../.." && pwd)}
bin=$top/build/selftests
timeout=$(sed -n 's/^timeout=//p' "$here/settings")
progs=$(make -s -C "$here" list)
if [ "${1:-}" = --not-once ]; then
	for t in $(make -s -C "$here" list-once); do
		progs=$(echo " $progs " | sed "s/ $t / /")
	done
fi
rdma_core_tests=${PMEM_RDMA_RDMA_CORE_TESTS:-test_qpex}

pass=0 fail=0 skip=0
tmp=$(mktemp)

set -- $progs rdma_core_suite
echo "TAP version 13"
echo "1..$#"
i=0
for t in "$@"; do
	i=$((i + 1))
	echo "# selftests: pmem_rdma: $t"
	if [ "$t" = rdma_core_suite ]; then
		cmd=("$here/rdma_core_suite.py" $rdma_core_tests)
	else
		cmd=("$bin/$t")
	fi
	start=$SECONDS
	timeout "$timeout" "${cmd[@]}" >"$tmp" 2>&1
	rc=$?
	sed 's/^/# /' "$tmp"
	echo "# $t took $((SECONDS - start)) s"
	p=$(grep -E '^ok [0-9]+ ' "$tmp" | grep -vc '# SKIP')
	s=$(grep -E '^ok [0-9]+ ' "$tmp" | grep -c '# SKIP')
	f=$(grep -cE '^not ok [0-9]+ ' "$tmp")
	# A program that died or timed out without saying which test failed.
	if [ "$rc" != 0 ] && [ "$rc" != 4 ] && [ "$f" = 0 ]; then
		f=1
		echo "# $t exited with status $rc"
	fi
	pass=$((pass + p)) skip=$((skip + s)) fail=$((fail + f))
	if [ "$f" != 0 ]; then
		echo "not ok $i selftests: pmem_rdma: $t # exit=$rc"
	elif [ "$p" = 0 ] && [ "$s" != 0 ]; then
		echo "ok $i selftests: pmem_rdma: $t # SKIP"
	else
		echo "ok $i selftests: pmem_rdma: $t"
	fi
done
rm -f "$tmp"
echo "# pmem_rdma totals: pass=$pass fail=$fail skip=$skip"
[ "$fail" = 0 ]
