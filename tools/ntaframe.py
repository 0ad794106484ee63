#!/usr/bin/env python3
"""A results file as a pandas DataFrame: one row per run.

The same table as `ntasweep export`: the run index, every coordinate along run
(the parameters, case, run_key, record_interval and the sweep's [vars]), status,
message, then the scalar metrics: every other 1-D float dataset along run
(specialization, total_alignment) and final_loss, mean_time_to_threshold and,
for CNN runs, final_accuracy.

    import sys; sys.path.insert(0, "tools")
    from ntaframe import runs
    df = runs("results/my_tauc.h5", done=True)
    df.groupby("tau_c").specialization.mean()

The same file in xarray, with the run parameters that vary indexed so that
ds.sel(tau_c=0.1) selects by value (a plain xr.open_dataset needs
ds.sel(run=ds.tau_c == 0.1), since an unindexed coordinate cannot be selected
on):

    from ntaframe import dataset
    ds = dataset("results/my_tauc.h5")
    ds.sel(tau_c=0.1).specialization.mean()

As a script: ntaframe.py OUT.h5 [--done] prints the table (tab-separated).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ntatools  # noqa: E402

DERIVED = (("loss", "final_loss", "last"), ("time_to_threshold", "mean_time_to_threshold", "mean"),
           ("accuracy", "final_accuracy", "last"))


def _last_finite(a):
    import numpy as np
    out = np.full(a.shape[0], np.nan)
    for i, row in enumerate(a):
        finite = row[np.isfinite(row)]
        if finite.size:
            out[i] = finite[-1]
    return out


def _mean_finite(a):
    import numpy as np
    out = np.full(a.shape[0], np.nan)
    for i, row in enumerate(a):
        finite = row[np.isfinite(row)]
        if finite.size:
            out[i] = finite.sum() / finite.size
    return out


def runs(path, done=False):
    """One row per run of results file `path` (only runs that are done with done=True)."""
    import h5py
    import numpy as np
    import pandas as pd
    f = ntatools.open_results(path)
    with f:
        status = f["status"]
        coords = ntatools.attr_str(status, "coordinates")
        if coords is None:
            ntatools.die("%s: no 'coordinates' attribute on status (a results file of format 4 or later is needed)" % path)
        n = status.shape[0]
        cols = {"run": np.arange(n, dtype=np.int64)}

        def column(name):
            a = f[name][()]
            return np.array(ntatools.decode(a), dtype=object) if a.dtype.kind == "S" else a

        for name in coords.split():
            cols[name] = column(name)
        cols["status"] = column("status")
        cols["message"] = column("message")
        for name in sorted(f.keys()):
            obj = f[name]
            if name in cols or not isinstance(obj, h5py.Dataset) or h5py.h5ds.is_scale(obj.id):
                continue
            if obj.ndim == 1 and obj.shape[0] == n and obj.dtype.kind == "f":
                cols[name] = obj[()]
        for source, name, how in DERIVED:
            if source in f and f[source].ndim == 2:
                a = f[source][()]
                cols[name] = _last_finite(a) if how == "last" else _mean_finite(a)
    df = pd.DataFrame(cols)
    if done:
        df = df[df.status == 1]
    return df


def dataset(path, index=None):
    """xr.open_dataset(path, engine="h5netcdf") with the coordinates along run
    that take more than one value (or the names in `index`) set as an index
    of run, so ds.sel(tau_c=0.1) and ds.sel(tau_c=0.1, seed=2) select by
    value. String coordinates (case) are indexed too; run_key is not."""
    import xarray as xr
    ntatools.open_results(path).close()   # a clear message for a missing or older file
    ds = xr.open_dataset(path, engine="h5netcdf")
    if index is None:
        index = [name for name, c in ds.coords.items()
                 if c.dims == ("run",) and name not in ("run", "run_key") and c.to_index().nunique() > 1]
    return ds.set_xindex(list(index)) if index else ds


def main():
    args = [a for a in sys.argv[1:] if a != "--done"]
    if len(args) != 1 or args[0].startswith("-"):
        sys.stderr.write("usage: ntaframe.py OUT.h5 [--done]\n")
        return 2
    ntatools.ensure_interpreter(("h5py", "numpy", "pandas"))
    runs(args[0], done="--done" in sys.argv).to_csv(sys.stdout, sep="\t", index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
