#!/usr/bin/env python3
"""Hold every profile in eval/profiles/ against corpus/rules/ and compare with eval/profile_expected.yaml.

Usage: PYTHONPATH=$PWD python eval/check_profiles.py [--profiles DIR] [--expected FILE] [--rules DIR]

The expected verdicts were written by reading the rules, so a mismatch is either a matcher bug or a
wrong expectation: both are worth a look. Every profile must have an entry and every entry must name
every rule (a new rule needs a verdict per profile). Exit 1 on any mismatch or gap.
"""
import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=Path, default=ROOT / "eval" / "profiles")
    parser.add_argument("--expected", type=Path, default=ROOT / "eval" / "profile_expected.yaml")
    parser.add_argument("--rules", type=Path, default=ROOT / "corpus" / "rules")
    args = parser.parse_args(argv)

    from bot.matching import load_rules, match
    from bot.profile import load_profile

    rules = load_rules(args.rules)
    rule_ids = [r.id for r in rules]
    expected = yaml.safe_load(args.expected.read_text(encoding="utf-8")) or {}
    problems = []
    files = sorted(p for p in args.profiles.iterdir() if p.is_file())
    for name in sorted(set(expected) - {p.name for p in files}):
        problems.append(f"{name}: in {args.expected.name} but no such profile")
    counts = {"eligible": 0, "not_eligible": 0, "needs_info": 0}
    for path in files:
        want = expected.get(path.name)
        if want is None:
            problems.append(f"{path.name}: no expected verdicts")
            continue
        for rid in sorted(set(want) - set(rule_ids)):
            problems.append(f"{path.name}: expected verdict for unknown rule {rid}")
        for verdict in match(load_profile(path), rules):
            counts[verdict.status] = counts.get(verdict.status, 0) + 1
            exp = want.get(verdict.rule_id)
            if exp is None:
                problems.append(f"{path.name}: no expected verdict for rule {verdict.rule_id}")
            elif exp != verdict.status:
                why = "; ".join(c.line() for c in verdict.conditions if c.status != "met")
                problems.append(f"{path.name}: {verdict.rule_id} expected {exp}, matcher says {verdict.status}"
                                + (f" [{why}]" if why else ""))
    print(f"profiles: {len(files)}  rules: {len(rules)}  verdicts: "
          + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if problems:
        print(f"\nMISMATCHES ({len(problems)}):")
        for p in problems:
            print("  " + p)
        return 1
    print("OK: every verdict as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
