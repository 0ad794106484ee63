#!/usr/bin/env python3
"""Schemas of `ntasweep status --json` and `plan --json` (tests/cli.sh cli_json).

usage: check_json.py status STATUS.json [--running N] | plan PLAN.json [--varied KEY ...]
Checks every documented field and its type (docs/running.md "Machine-readable
output"); with --varied, that the runs' params hold exactly the given keys;
with --running N, that N ranks are each training a run with 0 < step <= steps
(a sweep in the middle of long runs). Exit 0 ok, 1 a check failed.
"""
import json
import sys

STATUS = {"file": str, "sweep": str, "spec_file": str, "spec_hash": str, "ntasweep_version": str,
          "format_version": int, "runs": int, "done": int, "failed": int, "pending": int,
          "lock": (str, type(None)), "failed_runs": list, "ranks": list}
FAILED_RUN = {"run": int, "key": str, "params": dict, "message": str}
RANK = {"rank": int, "run": (int, type(None))}
RANK_RUNNING = {"params": str, "started": (int, float), "estimated_s": (int, float), "step": int, "steps": int,
                "eta_s": (int, float, type(None))}
PLAN = {"spec": str, "name": str, "spec_hash": str, "runs": int, "total_steps": (int, float),
        "core_seconds": (int, float), "longest_run_s": (int, float), "pretrainings": int,
        "pretraining_s": (int, float), "varied": list, "run_table": list}
PLAN_RUN = {"run": int, "key": str, "case": str, "params": dict, "steps": int, "est_s": (int, float)}

failures = []


def schema(obj, fields, what):
    for key, typ in fields.items():
        if key not in obj:
            failures.append("%s: no field '%s'" % (what, key))
        elif not isinstance(obj[key], typ) or (typ is int and isinstance(obj[key], bool)):
            failures.append("%s: '%s' is %r" % (what, key, obj[key]))


def main():
    kind, path = sys.argv[1], sys.argv[2]
    with open(path) as fh:
        data = json.load(fh)
    if kind == "status":
        schema(data, STATUS, "status")
        for i, r in enumerate(data.get("failed_runs", [])):
            schema(r, FAILED_RUN, "failed_runs[%d]" % i)
        if data.get("runs") != data.get("done", 0) + data.get("failed", 0) + data.get("pending", 0):
            failures.append("status: runs != done + failed + pending")
        for i, r in enumerate(data.get("ranks", [])):
            schema(r, RANK, "ranks[%d]" % i)
            if r.get("run") is not None:
                schema(r, RANK_RUNNING, "ranks[%d]" % i)
        if "--running" in sys.argv:
            want = int(sys.argv[sys.argv.index("--running") + 1])
            ranks = data.get("ranks", [])
            stepping = [r for r in ranks if r.get("run") is not None and 0 < r.get("step", 0) <= r.get("steps", 0)]
            if len(ranks) != want or len(stepping) != want:
                failures.append("status: %d of %d ranks in a run with 0 < step <= steps, expected %d: %s"
                                % (len(stepping), len(ranks), want, ranks))
    else:
        schema(data, PLAN, "plan")
        table = data.get("run_table", [])
        if len(table) != data.get("runs"):
            failures.append("plan: run_table has %d rows for %s runs" % (len(table), data.get("runs")))
        for i, r in enumerate(table):
            schema(r, PLAN_RUN, "run_table[%d]" % i)
        if "--varied" in sys.argv:
            want = sorted(sys.argv[sys.argv.index("--varied") + 1:])
            if sorted(data.get("varied", [])) != want:
                failures.append("plan: varied %s, expected %s" % (data.get("varied"), want))
            for r in table:
                if sorted(r["params"]) != want:
                    failures.append("plan: run %d params %s" % (r["run"], sorted(r["params"])))
                    break
    for f in failures:
        print("FAIL", f)
    print("%s: %s" % (kind, "%d problems" % len(failures) if failures else "schema ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
