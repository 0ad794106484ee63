#!/usr/bin/env python3
"""Prints fields of one JSON object read from standard input, space-separated
(a nested field as a.b; null as "null"), so shell tests read `ntasweep status
--json` and `plan --json` instead of parsing their human-readable text.

usage: ntasweep status --json F.h5 | json_get.py runs done failed pending
"""
import json
import sys


def get(obj, path):
    for part in path.split("."):
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return "null" if obj is None else obj


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__.split("\n\n")[-1] + "\n")
        return 2
    data = json.load(sys.stdin)
    print(" ".join(str(get(data, k)) for k in sys.argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
