#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# interop_test - the interop matrix over the two-VM wire.  Three rxe:
# ours on Debian's 6.1 kernel, ours on its 6.12 kernel, and 6.12's own
# rdma_rxe (scripts/vm-run --stock-rxe).  Each pair of them boots as two
# VMs on one wire, and each VM is requester to the other's responder
# (tools/testing/selftests/pmem_rdma/interop_guest.sh), so every pair runs
# in both directions in one boot: WRITE, FLUSH and ATOMIC WRITE against the
# user-space target on every rxe, and against the kernel target, with
# VERIFY, where the responder is ours.  The stock VM also runs, on its own,
# the user-space target's tests and rdma-core's extended QP verbs.
#
# Prints "ok - ..." / "not ok - ..." a check (scripts/run-tests counts
# them), one more for each VM's kernel log, and exits non-zero on a failure.
set -uo pipefail

top=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$top" || exit 1
w=$top/build/interop
rm -rf "$w"
mkdir -p "$w"
guest=$top/tools/testing/selftests/pmem_rdma/interop_guest.sh
fail=0

# RXE: "ours 6.1", "ours 6.12" or "stock 6.12"
vm_args() {	# RXE: the vm-run arguments of its kernel and driver
	case $1 in
	stock*) echo --stock-rxe ;;
	esac
}
line_of() { echo "${1#* }"; }
ours() { case $1 in ours*) echo 1 ;; *) echo 0 ;; esac; }

for line in 6.1 6.12; do
	make -s KERNEL=$line modules >"$w/modules-$line.log" 2>&1 ||
		{ echo "not ok - the $line kernel's modules build"; exit 1; }
done

pair() {	# A B: A listens, B connects; each the other's peer
	local a=$1 b=$2 port=$((20000 + RANDOM % 20000)) n=$3 pa rca rcb v
	local la=$w/pair$n-a.log lb=$w/pair$n-b.log

	echo "# $a and $b on one wire"
	# shellcheck disable=SC2046
	PMEM_RDMA_KERNEL=$(line_of "$a") scripts/vm-run --smp 1 --timeout 900 \
		--klog-result "$w/klog$n-a" --wire "listen:$port:1" $(vm_args "$a") -- \
		"$guest" "$a" "$b" "$(ours "$b")" >"$la" 2>&1 &
	pa=$!
	sleep 3
	# shellcheck disable=SC2046
	PMEM_RDMA_KERNEL=$(line_of "$b") scripts/vm-run --smp 1 --timeout 900 \
		--klog-result "$w/klog$n-b" --wire "connect:$port:2" $(vm_args "$b") -- \
		"$guest" "$b" "$a" "$(ours "$a")" >"$lb" 2>&1
	rcb=$?
	wait $pa
	rca=$?
	for v in "a:$a:$rca" "b:$b:$rcb"; do
		IFS=: read -r side label rc <<<"$v"
		grep -E '^(not )?ok - ' "$w/pair$n-$side.log"
		grep -q '^ok - ' "$w/pair$n-$side.log" || {
			echo "not ok - $label (with the other VM): no result (vm-run exit $rc)"
			tail -n 20 "$w/pair$n-$side.log" | sed 's/^/# /'
		}
		if [ "$(cat "$w/klog$n-$side" 2>/dev/null)" = clean ]; then
			echo "ok - $label (with the other VM): guest kernel log clean"
		else
			echo "not ok - $label (with the other VM): guest kernel log: $(cat "$w/klog$n-$side" 2>/dev/null || echo none)"
		fi
		grep -q '^# ' "$w/pair$n-$side.log" &&
			grep '^# ' "$w/pair$n-$side.log" | head -n 40
	done
}

# PMEM_RDMA_INTEROP_PAIRS: some of the pairs, by number (default: 1 2 3)
{
	for n in ${PMEM_RDMA_INTEROP_PAIRS:-1 2 3}; do
		case $n in
		1) pair "ours 6.1" "ours 6.12" 1 ;;
		2) pair "ours 6.1" "stock 6.12" 2 ;;
		3) pair "ours 6.12" "stock 6.12" 3 ;;
		esac
	done
} | tee "$w/results.log"
grep -q '^not ok' "$w/results.log" && fail=1
exit $fail
