#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# One VM of a pair of the interop matrix (tools/testing/host/interop_test.sh),
# booted by scripts/vm-run --wire: serve this VM's pmem to the other VM, run
# interop_peer against the other VM's, then stay up until the other VM is
# done with us.  A VM on a stock kernel (no rdma_rxe_flush) also runs the
# tests that a target and a client there must pass on their own: the
# user-space target choosing FLUSH, and rdma-core's extended QP verbs.
#
# Usage: interop_guest.sh ME PEER PEER_OURS
#   ME, PEER: labels ("ours 6.1", "stock 6.12"); PEER_OURS: 1 when the
#   other VM runs our rxe (and a kernel export with VERIFY).
# Prints "ok - ME -> PEER: TEST", "not ok - ...", or "ok - ... # SKIP".

top=${PMEM_RDMA_TOP:?}
me=${1:?} peer_label=${2:?} peer_ours=${3:?}
ctl=$top/build/tools/pmrdmactl
bin=$top/build/selftests
serve_port=7701 export_port=7702 done_port=7703
peer=${PMEM_RDMA_WIRE_PEER:?no wire (vm-run --wire)}
tmp=$(mktemp -d)
fail=0

# the results of a harness program as lines of our own, named by prefix;
# one more "not ok" when it died or was cut short (status RC) before giving
# every result its plan announced
tap() {	# PREFIX LOG RC
	local plan got
	sed -n 's/^\(not ok\|ok\) [0-9][0-9]* \(.*\)$/\1 - '"$1"': \2/p' "$2"
	grep -q '^not ok [0-9]' "$2" && fail=1
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$2" | head -n 1)
	got=$(grep -cE '^(not )?ok [0-9]+ ' "$2")
	if [ -z "$plan" ] || [ "$got" != "$plan" ] ||
	   { [ "$3" != 0 ] && [ "$3" != 1 ] && [ "$3" != 4 ]; }; then
		echo "not ok - $1: exit status $3, $got of ${plan:-?} results"
		fail=1
	fi
	return 0
}

# this VM's targets: the user-space one, on any rxe; the kernel one on ours
"$ctl" serve -p "$PMEM_RDMA_DAX" -o 64M -l 2M -P $serve_port -A any \
	>"$tmp/serve.log" 2>&1 &
serve=$!
if [ -d /sys/module/rdma_rxe_flush ]; then
	"$ctl" export -p "$PMEM_RDMA_PMEM" -o 0 -l 2M -P $export_port -A any \
		-V xxh64 >/dev/null || { echo "not ok - $me: pmrdmactl export"; fail=1; }
fi
# released when the other VM has done all it does with our targets
python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", int(sys.argv[1])))
s.listen(1)
s.settimeout(840)
s.accept()' $done_port &
released=$!

PMEM_RDMA_INTEROP_SERVE_PORT=$serve_port \
PMEM_RDMA_INTEROP_EXPORT_PORT=$export_port \
PMEM_RDMA_INTEROP_PEER_OURS=$peer_ours \
	timeout 600 "$bin/interop_peer" >"$tmp/peer.log" 2>&1
tap "$me -> $peer_label" "$tmp/peer.log" $?
grep -q '^not ok' "$tmp/peer.log" && sed 's/^/# /' "$tmp/peer.log"

if [ ! -d /sys/module/rdma_rxe_flush ]; then
	# a stock kernel's own rxe, with our rdma-core and libpmrdma
	timeout 300 "$bin/lib_serve_test" >"$tmp/serve_test.log" 2>&1
	tap "$me alone: lib_serve_test" "$tmp/serve_test.log" $?
	timeout 300 "$top/tools/testing/selftests/pmem_rdma/rdma_core_suite.py" \
		test_qpex >"$tmp/qpex.log" 2>&1
	tap "$me alone: rdma-core" "$tmp/qpex.log" $?
	grep -q '^not ok' "$tmp/serve_test.log" "$tmp/qpex.log" &&
		sed 's/^/# /' "$tmp/serve_test.log" "$tmp/qpex.log"
fi

# done with the other VM's targets: tell it, then wait until it is with ours
python3 -c 'import socket, sys, time
a = socket.getaddrinfo(sys.argv[1], int(sys.argv[2]), socket.AF_INET6,
                       socket.SOCK_STREAM)[0]
end = time.monotonic() + 300
while True:
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(a[4])
        break
    except OSError:
        if time.monotonic() > end:
            sys.exit(1)
        time.sleep(1)' "$peer" $done_port ||
	{ echo "not ok - $me: the other VM was gone before it was told we are done"; fail=1; }
wait $released ||
	{ echo "not ok - $me: the other VM never said it was done with us"; fail=1; }
kill -INT $serve
wait $serve
rm -rf "$tmp"
exit $fail
