"""How well drafted rules recover the hand-written ones: `python eval/drafts_recall.py [corpus]`.

Drafts rules for every shipped document (bot.matching.drafts, as an ingest would) and compares their
conditions with those of the hand-written rules of corpus/rules. A hand-written threshold condition
(> >= < <=) is recovered when a drafted condition from the same clause has the same fact (or the
same measured phrase), the same operator and the same value (bands: the same values band by band).
Yes/no conditions (居民企业, 创业投资企业) state no threshold and are not drafted; they are counted
apart. Every drafted condition that matches no hand-written one is listed as "unmatched", for a
reader to judge whether it is a true threshold the hand-written rules left out or a wrong one.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.ingest.amendments import load_amendments  # noqa: E402
from bot.matching.drafts import draft_document  # noqa: E402
from bot.matching.rules import NUMERIC_OPS, corpus_clauses, load_corpus_rules  # noqa: E402
from bot.text.facts import facts  # noqa: E402
from bot.text.units import convert  # noqa: E402
from bot.text.width import compact  # noqa: E402


def _value(value, unit: str, field: str) -> float | None:
    if value is None:
        return None
    want = facts()[field].unit if field in facts() else unit
    try:
        return round(convert(value, unit, want), 6) if unit and want else round(float(value), 6)
    except ValueError:
        return round(float(value), 6)


def _bands(cond, unit: str, field: str) -> tuple:
    return tuple(_value(b.value if hasattr(b, "value") else b["value"], unit, field) for b in cond)


def _same(hand, hand_clause: str, drafted: dict, drafted_clause: str) -> bool:
    if hand_clause != drafted_clause or hand.op != drafted["op"]:
        return False
    phrase = compact(drafted["wording"])
    if hand.field != drafted["field"] and not (phrase in compact(hand.wording) or compact(hand.wording) in phrase):
        return False
    if hand.bands:
        return bool(drafted.get("bands")) and _bands(hand.bands, hand.unit, hand.field) == _bands(
            drafted["bands"], drafted["unit"], hand.field)
    return _value(hand.value, hand.unit, hand.field) == _value(drafted.get("value"), drafted["unit"], hand.field)


def main(corpus: Path) -> int:
    clauses = corpus_clauses(corpus)
    notes = corpus / "amendments.yaml"
    amendments = load_amendments(notes) if notes.is_file() else {}
    drafted: list[tuple[str, dict]] = []  # (clause id, condition)
    rules = 0
    for slug in sorted({c.doc_slug for c in clauses.values()}):
        for rule in draft_document(slug, "", [c for c in clauses.values() if c.doc_slug == slug], amendments):
            rules += 1
            drafted += [(cond["clause"], cond) for cond in rule.get("conditions", [])]
    hand = load_corpus_rules(corpus).rules
    thresholds, flags, used = [], [], set()
    for rule in hand:
        for cond in rule.conditions:
            clause = cond.clause or rule.clauses[0]
            if cond.op not in NUMERIC_OPS:
                flags.append((rule.id, cond))
                continue
            hits = [i for i, (cid, d) in enumerate(drafted) if _same(cond, clause, d, cid)]
            used.update(hits)
            thresholds.append((rule.id, cond, bool(hits)))
    found = sum(ok for *_, ok in thresholds)
    total_hand = len(thresholds) + len(flags)
    print(f"drafted: {rules} rules, {len(drafted)} conditions, from {len({c.doc_slug for c in clauses.values()})} documents")
    print(f"threshold conditions recovered: {found}/{len(thresholds)} = {found / max(len(thresholds), 1):.0%}")
    print(f"all hand-written conditions recovered: {found}/{total_hand} = {found / max(total_hand, 1):.0%} "
          f"({len(flags)} yes/no conditions are not drafted)")
    for rule_id, cond, ok in thresholds:
        print(f"  {'✓' if ok else '✗'} {rule_id}: {cond.field} {cond.op} {cond.value if not cond.bands else 'bands'} "
              f"{cond.unit}  «{cond.wording}»")
    unmatched = [(cid, d) for i, (cid, d) in enumerate(drafted) if i not in used]
    print(f"unmatched drafted conditions: {len(unmatched)}/{len(drafted)}")
    for cid, d in unmatched:
        print(f"  ? {cid}: {d['field']} {d['op']} {d.get('value', 'bands')} {d['unit']}  «{d['wording']}»")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "corpus"))
