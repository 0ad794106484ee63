"""Shared helpers for the ntasweep Python tools.

Only the standard library is imported at module level, so that a script can
import this module and call ensure_interpreter() before anything else even
when the running interpreter lacks h5py/numpy (the `python3` on PATH may be a
separate build without Debian's modules). numpy is imported inside the
functions that need it.
"""
import os
import shutil
import subprocess
import sys

# Debian package providing each module; tools/install-deps installs them.
DEBIAN_PACKAGES = {
    "h5py": "python3-h5py",
    "numpy": "python3-numpy",
    "matplotlib": "python3-matplotlib",
    "xarray": "python3-xarray",
    "h5netcdf": "python3-h5netcdf",
}

_REEXEC_ENV = "NTATOOLS_REEXEC"  # interpreter we re-exec'd into, to never loop

# Run by each candidate interpreter: print the modules it cannot import.
_PROBE = """import sys
missing = []
for m in sys.argv[1:]:
    try:
        __import__(m)
    except Exception:
        missing.append(m)
print(" ".join(missing))"""


def _missing_here(modules):
    missing = []
    for name in modules:
        try:
            __import__(name)
        except Exception:  # a broken install (e.g. ABI mismatch) counts as missing
            missing.append(name)
    return missing


def _candidates():
    seen = {os.path.realpath(sys.executable)}
    for cand in ("/usr/bin/python3", shutil.which("python3"), shutil.which("python3.11"),
                 "/usr/bin/python3.11"):
        if cand and os.access(cand, os.X_OK) and os.path.realpath(cand) not in seen:
            seen.add(os.path.realpath(cand))
            yield cand


def _missing_in(cand, modules):
    try:
        r = subprocess.run([cand, "-c", _PROBE] + list(modules), capture_output=True,
                           text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return list(modules)
    return r.stdout.split() if r.returncode == 0 else list(modules)


def ensure_interpreter(modules=("h5py", "numpy")):
    """Return if `modules` import here; else re-exec this script (same argv)
    under an interpreter where they do; else say what to install and exit 2."""
    me = os.path.realpath(sys.executable)
    missing = _missing_here(modules)
    if not missing:
        os.environ.pop(_REEXEC_ENV, None)  # so our own child processes may re-exec
        return
    tried = {sys.executable: missing}
    if os.environ.get(_REEXEC_ENV) != me:  # not already the interpreter we chose
        for cand in _candidates():
            tried[cand] = _missing_in(cand, modules)
            if not tried[cand]:
                os.environ[_REEXEC_ENV] = os.path.realpath(cand)
                sys.stdout.flush()
                sys.stderr.flush()
                os.execv(cand, [cand] + sys.argv)
    # Debian's packages go to /usr/bin/python3, so name what that one lacks.
    need = tried.get("/usr/bin/python3", missing)
    sys.stderr.write(
        "%s: no Python interpreter can import all of %s.\n%s"
        "Install the Debian packages: %s (tools/install-deps installs them).\n"
        % (os.path.basename(sys.argv[0]), ", ".join(modules),
           "".join("  %s lacks %s\n" % (c, ", ".join(m)) for c, m in tried.items()),
           " ".join(DEBIAN_PACKAGES.get(m, m) for m in need)))
    sys.exit(2)


def die(msg, code=2):
    sys.stderr.write("%s: error: %s\n" % (os.path.basename(sys.argv[0]), msg))
    sys.exit(code)


def open_results(path, required=()):
    """Open an ntasweep HDF5 file read-only; exit 2 with a clear message if the
    file is missing, unreadable, or lacks any of the `required` datasets."""
    import h5py
    if not os.path.exists(path):
        die("%s: no such file" % path)
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        die("%s: cannot open as HDF5 (%s)" % (path, e))
    absent = [name for name in required if not isinstance(f.get(name), h5py.Dataset)]
    if absent:
        die("%s: missing dataset(s): %s" % (path, ", ".join(absent)))
    return f


def decode(values):
    """Fixed-length byte strings (numpy 'S', NUL-padded) or str -> str / list of str."""
    import numpy as np
    if isinstance(values, (bytes, np.bytes_)):
        return bytes(values).rstrip(b"\0").decode("utf-8", "replace")
    if isinstance(values, str):
        return values
    return [decode(v) for v in np.asarray(values).ravel()]


def attr_str(obj, name, default=None):
    """A string attribute, whether stored fixed-length (bytes) or variable (str)."""
    if name not in obj.attrs:
        return default
    return decode(obj.attrs[name])


# The two cases of the paper come first, in this order; others follow by name.
PAPER_CASES = ("flexible", "forgetful")


def group_by_case(f):
    """{case name: indices of done runs (status == 1)} plus {case: number of
    runs}, in plotting order. Runs with an empty case name form the case ""."""
    import numpy as np
    cases = decode(f["case"][()])
    status = np.asarray(f["status"][()])
    names = sorted(set(cases), key=lambda c: (PAPER_CASES.index(c) if c in PAPER_CASES
                                              else len(PAPER_CASES), c))
    done = {c: [i for i, ci in enumerate(cases) if ci == c and status[i] == 1] for c in names}
    total = {c: sum(ci == c for ci in cases) for c in names}
    return done, total


def read_runs(f, name, runs):
    """Rows `runs` (sorted indices along `run`) of dataset `name` as an array."""
    import numpy as np
    ds = f[name]
    if len(runs) == 0:
        return np.empty((0,) + ds.shape[1:], dtype=ds.dtype)
    return ds[list(runs)]


def record_times(f, runs):
    """Times [len(runs), n_time] of each record of each run. `time` holds times
    when all runs share a record interval, else record indices (units="record")
    that each run's record_interval converts."""
    import numpy as np
    t = np.asarray(f["time"][()], dtype=float)
    if attr_str(f["time"], "units") == "record":
        return t[None, :] * read_runs(f, "record_interval", runs)[:, None]
    return np.broadcast_to(t, (len(runs), t.size))


def mean_sem(a, axis=0):
    """Mean and standard error of the mean over `axis`, ignoring NaN, and the
    count of finite values. sem is NaN where fewer than two values exist."""
    import numpy as np
    a = np.asarray(a, dtype=float)
    ok = np.isfinite(a)
    n = ok.sum(axis=axis)
    x = np.where(ok, a, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = x.sum(axis=axis) / n
        dev = np.where(ok, a - np.expand_dims(mean, axis), 0.0)
        sem = np.sqrt((dev ** 2).sum(axis=axis) / (n - 1) / n)
    mean = np.where(n > 0, mean, np.nan)
    sem = np.where(n > 1, sem, np.nan)
    return mean, sem, n


def match_paths(final_cos):
    """Pair teachers with student paths from the final cosine similarities
    final_cos[m, p] (M teachers x P paths). Returns perm: perm[m] = the path
    matched to teacher m (-1 if M > P leaves teacher m without one), followed by
    the unmatched paths in index order.

    Each teacher goes with the path most similar to it (argmax of the final
    cosine). Pairs are taken greedily from the largest similarity down: that is
    exactly the argmax matching whenever it is one-to-one (per teacher or per
    path), and still a permutation when two teachers prefer the same path, as
    in runs that did not specialise."""
    import numpy as np
    c = np.array(final_cos, dtype=float)
    c[~np.isfinite(c)] = -np.inf
    M, P = c.shape
    perm = [-1] * M
    free_paths = set(range(P))
    for flat in np.argsort(-c, axis=None, kind="stable"):
        m, p = divmod(int(flat), P)
        if perm[m] < 0 and p in free_paths:
            perm[m] = p
            free_paths.discard(p)
    return perm + sorted(free_paths)
