#!/usr/bin/env python3
"""Check a results file left by an interrupted sweep against a complete one.

The partial file must open; every run it marks done (status 1) must equal
the complete file's run bitwise in every dataset along the run dimension;
statuses must be 0, 1 or 2. Prints how many runs were done.

usage: check_partial.py COMPLETE.h5 PARTIAL.h5
exit status: 0 consistent, 1 a done run differs, 2 the file does not open
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import ntatools  # noqa: E402

ntatools.ensure_interpreter(("h5py", "numpy"))
import h5py  # noqa: E402
import numpy as np  # noqa: E402


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    ref = ntatools.open_results(sys.argv[1])
    try:
        part = h5py.File(sys.argv[2], "r")
    except OSError as e:
        print("FAIL %s does not open: %s" % (sys.argv[2], e))
        return 2
    status = part["status"][()]
    if not np.isin(status, (0, 1, 2)).all():
        print("FAIL statuses outside 0, 1, 2: %s" % np.unique(status))
        return 1
    if not (part["run_key"][()] == ref["run_key"][()]).all():
        print("FAIL run tables differ")
        return 1
    done = np.flatnonzero(status == 1)
    bad = 0
    n = len(status)
    for name, ds in part.items():
        if not isinstance(ds, h5py.Dataset) or ds.ndim == 0 or ds.shape[0] != n or name == "run":
            continue
        a, b = np.asarray(ds[()])[done], np.asarray(ref[name][()])[done]
        if a.tobytes() != b.tobytes():
            bad += 1
            print("FAIL %s: a run marked done differs from the complete sweep" % name)
    print("%d of %d runs done, %s" % (len(done), n, "all consistent" if not bad else "%d datasets differ" % bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
