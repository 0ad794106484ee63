#!/usr/bin/env python3
"""Check that two ntasweep result files hold bitwise identical results.

Every dataset (at any depth) must exist in both files with the same shape,
dtype and raw bytes -- so NaN equals NaN only with the same bit pattern, and
-0.0 differs from 0.0. The root attributes spec_hash and spec_text must be
equal. Other attributes (version, dimension-scale bookkeeping) are not
compared: they may differ legitimately between builds or writers.

With --by-key, runs are matched by run_key instead of by position (an
extended sweep appends new runs, so its order differs from a fresh run's):
every dataset whose first dimension is the run dimension is compared after
sorting both files' runs by key; the dimension scale 'run' is skipped.

usage: compare_h5.py A.h5 B.h5 [--by-key] [--ignore NAME ...]
exit status: 0 equal, 1 different, 2 usage or I/O error
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import ntatools  # noqa: E402

ntatools.ensure_interpreter(("h5py", "numpy"))
import h5py  # noqa: E402
import numpy as np  # noqa: E402

ROOT_ATTRS = ("spec_hash", "spec_text")


def datasets(f):
    names = []
    f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
    return set(names)


def element_bytes(a):
    """Array of the raw bytes of each element: shape a.shape + (itemsize,)."""
    a = np.ascontiguousarray(a)
    return a.view(np.uint8).reshape(a.shape + (a.dtype.itemsize,))


def along_run(ds):
    """Is the dataset's first dimension the run dimension (scale /run)?"""
    try:
        return ds.ndim >= 1 and len(ds.dims[0]) > 0 and ds.dims[0][0].name == "/run"
    except (RuntimeError, KeyError, ValueError):
        return False


def compare(name, da, db, perm_a=None, perm_b=None):
    """None if equal, else a description of the difference. perm_a/perm_b
    reorder the first (run) dimension when given."""
    if da.shape != db.shape:
        return "shape %s vs %s" % (da.shape, db.shape)
    if da.dtype != db.dtype:
        return "dtype %s vs %s" % (da.dtype, db.dtype)
    a, b = np.asarray(da[()]), np.asarray(db[()])
    if perm_a is not None and along_run(da):
        a, b = a[perm_a], b[perm_b]
    if a.dtype.hasobject:  # variable-length data: bytes are pointers, compare values
        diff = np.array([x != y for x, y in zip(a.ravel(), b.ravel())], dtype=bool).reshape(a.shape)
    else:
        diff = (element_bytes(a) != element_bytes(b)).any(axis=-1)
    n = int(np.count_nonzero(diff))
    if n == 0:
        return None
    first = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), diff.shape))
    va, vb = repr(a[first]), repr(b[first])
    if va == vb:  # e.g. NaNs with different payloads: show the bits
        va, vb = (np.asarray(x[first]).tobytes()[::-1].hex() for x in (a, b))
    return "%d of %d elements differ, first at index %s (%s vs %s)" % (
        n, diff.size, list(first), va, vb)


def attr_bytes(f, name):
    v = f.attrs[name]
    return v.encode() if isinstance(v, str) else np.asarray(v).tobytes()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a", metavar="A.h5")
    ap.add_argument("b", metavar="B.h5")
    ap.add_argument("--by-key", action="store_true", help="match runs by run_key, not by position")
    ap.add_argument("--ignore", action="append", default=[], metavar="NAME",
                    help="skip this dataset or root attribute (repeatable)")
    args = ap.parse_args()
    fa = ntatools.open_results(args.a)
    fb = ntatools.open_results(args.b)
    ignore = {n.lstrip("/") for n in args.ignore}
    perm_a = perm_b = None
    if args.by_key:
        ka, kb = fa["run_key"][()], fb["run_key"][()]
        perm_a, perm_b = np.argsort(ka, kind="stable"), np.argsort(kb, kind="stable")
        ignore.add("run")

    failed = passed = 0
    names_a, names_b = datasets(fa), datasets(fb)
    for name in sorted((names_a | names_b) - ignore):
        if name not in names_a or name not in names_b:
            why = "only in %s" % (args.a if name in names_a else args.b)
        else:
            why = compare(name, fa[name], fb[name], perm_a, perm_b)
        if why:
            failed += 1
            print("DIFF %s: %s" % (name, why))
        else:
            passed += 1

    attr_failed = 0
    for name in ROOT_ATTRS:
        if name in ignore:
            continue
        present = (name in fa.attrs, name in fb.attrs)
        if present != (True, True):
            why = "missing in %s" % " and ".join(p for p, ok in zip((args.a, args.b), present) if not ok)
        elif attr_bytes(fa, name) != attr_bytes(fb, name):
            why = "%r vs %r" % (ntatools.attr_str(fa, name)[:60], ntatools.attr_str(fb, name)[:60])
        else:
            continue
        attr_failed += 1
        print("DIFF root attribute %s: %s" % (name, why))

    print("%d passed, %d failed" % (passed, failed)
          + ("; %d root attribute(s) differ" % attr_failed if attr_failed else ""))
    return 1 if failed or attr_failed else 0


if __name__ == "__main__":
    sys.exit(main())
