#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Run rdma-core's own test suite on rxe0 and report it as TAP.

Usage: rdma_core_suite.py [TEST_MODULE...]   (default: test_qpex)

Runs build/rdma-core/bin/run_tests.py -v --dev rxe0 --gid 0 and turns its
per-test lines into TAP.  Tests named in rdma_core_xfail (beside this file)
are known to fail on the current driver; each line names the issue that will
make it pass.  A listed test that fails is reported as a skip with that
reason; a listed test that passes is a failure, so the list stays honest.

run_tests.py's exit status must agree with the summary unittest prints at
the end: 0 with "OK", 1 with "FAILED" and a failure among the results.  Any
other status, or no summary at all (the suite died part-way, say), is one
more failure, whatever results came before it.
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("PMEM_RDMA_TOP", os.path.abspath(os.path.join(HERE, "../../../..")))
RUN_TESTS = os.path.join(TOP, "build/rdma-core/bin/run_tests.py")
LINE = re.compile(r"^(test\w+) \(([\w.]+)\)(?:\n.*?)?\s\.\.\.\s(ok|FAIL|ERROR|skipped (.*)|expected failure|unexpected success)$",
                  re.M)
SUMMARY = re.compile(r"^Ran \d+ tests? in [\d.]+s\n\n(OK|FAILED)\b", re.M)


def load_xfail():
    xfail = {}
    with open(os.path.join(HERE, "rdma_core_xfail")) as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if line:
                name, _, why = line.partition(" ")
                xfail[name] = why.strip()
    return xfail


def how_it_ended(proc, results):
    """None if the exit status agrees with the summary, else what went wrong."""
    summary = SUMMARY.search(proc.stdout)
    bad = [r for r in results if r[2] in ("FAIL", "ERROR", "unexpected success")]
    if not summary:
        return "exited with status %d and no summary after %d results" % (
            proc.returncode, len(results))
    if proc.returncode == 0 and summary.group(1) == "OK":
        return None
    if proc.returncode == 1 and summary.group(1) == "FAILED" and bad:
        return None
    return "exited with status %d, summary %s, %d failed results" % (
        proc.returncode, summary.group(1), len(bad))


def main():
    mods = sys.argv[1:] or ["test_qpex"]
    xfail = load_xfail()
    cmd = [RUN_TESTS, "-v", "--dev", os.environ.get("PMEM_RDMA_IBDEV", "rxe0"),
           "--gid", "0"] + mods
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout
    results = LINE.findall(out)
    ended = how_it_ended(proc, results) if results else None
    print("TAP version 13")
    print("1..%d" % (max(len(results), 1) + (1 if ended else 0)))
    failed = 0
    for i, (name, where, res, skipwhy, ) in enumerate(results, 1):
        label = "%s.%s" % (where.rsplit(".", 2)[-2] if where.count(".") >= 2 else where, name)
        if name in xfail:
            if res in ("FAIL", "ERROR", "expected failure"):
                print("ok %d %s # SKIP expected failure: %s" % (i, label, xfail[name]))
            else:
                print("not ok %d %s # passes but is listed in rdma_core_xfail: update the list" % (i, label))
                failed += 1
        elif res == "ok" or res == "expected failure":
            print("ok %d %s" % (i, label))
        elif res.startswith("skipped"):
            print("ok %d %s # SKIP %s" % (i, label, skipwhy.strip("'\"")))
        else:
            print("not ok %d %s # %s" % (i, label, res))
            failed += 1
    if not results:
        print("not ok 1 rdma-core run_tests.py # no test results (exit %d)" % proc.returncode)
        failed += 1
    if ended:
        print("not ok %d rdma-core run_tests.py # %s" % (len(results) + 1, ended))
        failed += 1
    # Show the details of anything that did not pass, as TAP diagnostics.
    tail = out[out.find("=" * 70):] if "=" * 70 in out else out[-2000:]
    for line in tail.splitlines():
        print("# " + line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
