#!/usr/bin/env python3
"""Compare a wsspec/Autobahn index.json with a committed expectation file.

Usage:
  compare.py EXPECTED.json ACTUAL_INDEX.json   compare; exit 0 same, 1 differ, 2 missing/bad file
  compare.py --extra-ok EXPECTED.json ACTUAL_INDEX.json
                                                the same, except that a case of the run absent from
                                                EXPECTED.json is as expected when it is OK/OK (used
                                                for the deflate agents' bulk ids, run only with
                                                DEFLATE_FULL=1, see run.sh)
  compare.py --write EXPECTED.json ACTUAL_INDEX.json
                                                rewrite EXPECTED.json from the run (exit 0, or 2)

Both files have Autobahn's index.json shape:
  { agent: { case_id: { behavior, behaviorClose, duration, remoteCloseCode, reportfile } } }
Expectation files are written the same way minus `duration` (timing is never
compared), with sorted keys and ids in numeric order, so reviews see stable diffs.

Every differing case is printed as one line:
  <id>: expected <behavior>/<behaviorClose> (<remoteCloseCode>) got <behavior>/<behaviorClose> (<remoteCloseCode>)
followed by `[reportfile expected X got Y]` when only or also the report file name differs.
A case present on one side only is shown as `missing` on the other.

Standard library only: it runs with whatever python3 the machine has.
"""

import json
import sys
from collections import Counter

COMPARED = ("behavior", "behaviorClose", "remoteCloseCode", "reportfile")


def case_key(case_id):
    """Numeric-tuple order (1.1.10 after 1.1.9), as Autobahn lists cases."""
    return tuple(int(p) if p.isdigit() else 0 for p in case_id.split("."))


def load(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        print(f"compare: {what} file {path} does not exist", file=sys.stderr)
        sys.exit(2)
    except (OSError, ValueError) as e:
        print(f"compare: cannot read {what} file {path}: {e}", file=sys.stderr)
        sys.exit(2)
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        print(f"compare: {what} file {path} is not {{agent: {{case: result}}}}", file=sys.stderr)
        sys.exit(2)
    return data


def strip(index):
    """Drop `duration` (and anything else not compared); keep the Autobahn nesting."""
    return {
        agent: {cid: {k: res.get(k) for k in COMPARED} for cid, res in cases.items()}
        for agent, cases in index.items()
    }


def fmt(res):
    if res is None:
        return "missing"
    code = res.get("remoteCloseCode")
    return f"{res.get('behavior')}/{res.get('behaviorClose')} ({'null' if code is None else code})"


def summary(index):
    out = []
    for agent, cases in sorted(index.items()):
        b = Counter(r.get("behavior") for r in cases.values())
        c = Counter(r.get("behaviorClose") for r in cases.values())
        out.append(
            f"{agent}: {len(cases)} cases; behavior "
            + ", ".join(f"{k} {v}" for k, v in sorted(b.items()))
            + "; behaviorClose "
            + ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
        )
    return out


def write(expected_path, actual_path):
    actual = strip(load(actual_path, "actual"))
    ordered = {
        agent: {cid: actual[agent][cid] for cid in sorted(actual[agent], key=case_key)}
        for agent in sorted(actual)
    }
    with open(expected_path, "w", encoding="utf-8") as f:
        json.dump(ordered, f, indent=3)
        f.write("\n")
    for line in summary(actual):
        print(line)
    print(f"wrote {expected_path}")
    return 0


def compare(expected_path, actual_path, extra_ok=False):
    expected = strip(load(expected_path, "expected"))
    actual = strip(load(actual_path, "actual"))
    for line in summary(actual):
        print(line)

    diffs = 0
    total = 0
    extra = 0
    for agent in sorted(set(expected) | set(actual)):
        if agent not in actual:
            print(f"agent {agent!r}: expected, but not in the run (agents run: {sorted(actual)})")
        elif agent not in expected:
            print(f"agent {agent!r}: in the run, but not expected (agents expected: {sorted(expected)})")
        exp = expected.get(agent, {})
        act = actual.get(agent, {})
        prefix = "" if len(expected) == 1 and set(expected) == set(actual) else f"{agent} "
        for cid in sorted(set(exp) | set(act), key=case_key):
            total += 1
            e, a = exp.get(cid), act.get(cid)
            if e == a:
                continue
            if extra_ok and e is None and a["behavior"] == "OK" and a["behaviorClose"] == "OK":
                extra += 1
                continue
            diffs += 1
            line = f"{prefix}{cid}: expected {fmt(e)} got {fmt(a)}"
            if e is not None and a is not None and e["reportfile"] != a["reportfile"]:
                line += f" [reportfile expected {e['reportfile']} got {a['reportfile']}]"
            print(line)

    if diffs:
        print(f"{diffs} of {total} cases differ from {expected_path}")
        return 1
    if extra:
        print(f"{extra} cases not in {expected_path} were OK/OK (--extra-ok)")
    print(f"all {total} cases as expected")
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == "--write":
        return write(argv[2], argv[3])
    if len(argv) == 3 and not argv[1].startswith("-"):
        return compare(argv[1], argv[2])
    if len(argv) == 4 and argv[1] == "--extra-ok":
        return compare(argv[2], argv[3], extra_ok=True)
    print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
