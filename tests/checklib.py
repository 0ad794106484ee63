"""Shared by the tests' outcome checkers (check_fig2.py, check_variants.py):
switches to an interpreter with Debian's h5py/numpy (tools/ntatools.py) and
counts named checks, printing each one, so a checker ends with finish().
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import ntatools  # noqa: E402

ntatools.ensure_interpreter(("h5py", "numpy"))

_counts = {"passed": 0, "failed": 0}


def check(cond, what):
    """Prints `ok` or `FAIL` with what was checked, and counts it."""
    print(("ok   " if cond else "FAIL ") + what)
    _counts["passed" if cond else "failed"] += 1


def finish():
    """Prints the totals and exits 1 if any check failed."""
    print(f"{_counts['passed']} passed, {_counts['failed']} failed")
    sys.exit(1 if _counts["failed"] else 0)
