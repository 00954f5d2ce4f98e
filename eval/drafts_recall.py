"""How well drafted rules recover the hand-written ones: `python eval/drafts_recall.py [corpus]`.

Drafts rules for every shipped document (bot.matching.drafts, as an ingest would) and compares their
conditions with those of the hand-written rules of corpus/rules. A hand-written condition is
recovered when a drafted condition from the same clause has the same operator and value (bands: the
same values band by band; yes/no: the same true/false) and the same fact; where the wanted threshold
names no fact of the vocabulary, the same measured phrase. A drafted condition left under the field
待定 (a list item naming no known fact) recovers nothing: it is counted apart, as work for the admin.
Every other drafted condition that matches no hand-written one is listed as "unmatched", for a reader
to judge whether it is a true condition the hand-written rules left out or a wrong one. The held-out
samples of eval/drafts/ (<name>.txt with the conditions a reader expects in <name>-expected.yaml)
are scored the same way.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.ingest.amendments import load_amendments  # noqa: E402
from bot.matching.drafts import UNKNOWN_FIELD, draft_document  # noqa: E402
from bot.matching.rules import NUMERIC_OPS, corpus_clauses, load_corpus_rules  # noqa: E402
from bot.text.facts import facts  # noqa: E402
from bot.text.units import convert  # noqa: E402
from bot.text.width import compact  # noqa: E402


@dataclass(frozen=True)
class Wanted:
    """A threshold condition a reader takes from a clause: its fact (None: none of the vocabulary),
    operator, value(s) in the fact's unit (one per band for a banded one) and wording."""

    label: str
    clause: str
    field: str | None
    op: str
    values: tuple[float | None, ...]
    wording: str


def _value(value, unit: str, field: str | None) -> float | None:
    if value is None:
        return None
    want = facts()[field].unit if field in facts() else unit
    try:
        return round(convert(value, unit, want), 6) if unit and want else round(float(value), 6)
    except ValueError:
        return round(float(value), 6)


def _values(cond: dict, field: str | None) -> tuple:
    if cond["op"] not in NUMERIC_OPS:
        return (cond.get("value"),)
    if cond.get("bands"):
        return tuple(_value(b["value"], cond.get("unit", ""), field) for b in cond["bands"])
    return (_value(cond.get("value"), cond.get("unit", ""), field),)


def _recovers(drafted: dict, wanted: Wanted) -> bool:
    """Same clause, operator and value(s), and the same fact or the same measured phrase."""
    if drafted["clause"] != wanted.clause or drafted["op"] != wanted.op:
        return False
    if unmapped(drafted):
        return False
    phrase, words = compact(drafted["wording"]), compact(wanted.wording)
    unnamed = drafted["field"] == UNKNOWN_FIELD or wanted.field is None  # then the measured phrase decides
    if drafted["field"] != wanted.field and not (unnamed and (phrase in words or words in phrase)):
        return False
    return _values(drafted, wanted.field) == wanted.values


def unmapped(drafted: dict) -> bool:
    """A yes/no condition the drafter tied to no fact: its text, for the admin to map."""
    return drafted["field"] == UNKNOWN_FIELD and drafted["op"] not in NUMERIC_OPS


def hand_written(corpus: Path) -> list[Wanted]:
    """Every condition of the rules of corpus/rules."""
    return [Wanted(rule.id, cond.clause or rule.clauses[0], cond.field, cond.op,
                   _values(cond.model_dump(mode="json"), cond.field), cond.wording)
            for rule in load_corpus_rules(corpus).rules for cond in rule.conditions]


def drafts_of(folder: Path, amendments, only: str | None = None) -> list[dict]:
    """Every drafted condition for the documents of `folder` (or its document `only`), as an ingest
    would draft them."""
    clauses = corpus_clauses(folder)
    out = []
    for slug in sorted({c.doc_slug for c in clauses.values()} if only is None else {only}):
        for rule in draft_document(slug, "", [c for c in clauses.values() if c.doc_slug == slug], amendments):
            out += rule.get("conditions", [])
    return out


def score(title: str, drafted: list[dict], wanted: list[Wanted]) -> None:
    used: set[int] = set()
    hits = []
    for w in wanted:
        found = [i for i, d in enumerate(drafted) if _recovers(d, w)]
        used.update(found)
        hits.append(bool(found))
    print(f"## {title}")
    for name, numeric in (("threshold conditions", True), ("yes/no and other conditions", False)):
        some = [ok for w, ok in zip(wanted, hits) if (w.op in NUMERIC_OPS) == numeric]
        if some:
            print(f"{name} recovered: {sum(some)}/{len(some)} = {sum(some) / len(some):.0%}")
    print(f"all conditions recovered: {sum(hits)}/{len(hits)} = {sum(hits) / max(len(hits), 1):.0%}")
    for w, ok in zip(wanted, hits):
        shown = "/".join(f"{v:g}" if isinstance(v, float) else str(v) for v in w.values if v is not None)
        print(f"  {'✓' if ok else '✗'} {w.label}: {w.field} {w.op} {shown}  «{w.wording}»")
    to_map = [d for d in drafted if unmapped(d)]
    print(f"drafted conditions left for the admin to map (field {UNKNOWN_FIELD}): {len(to_map)}/{len(drafted)}")
    for d in to_map:
        print(f"  · {d['clause']}: «{d['wording']}»")
    unmatched = [d for i, d in enumerate(drafted) if i not in used and not unmapped(d)]
    print(f"unmatched drafted conditions: {len(unmatched)}/{len(drafted)}")
    for d in unmatched:
        print(f"  ? {d['clause']}: {d['field']} {d['op']} {d.get('value', 'bands')} {d.get('unit', '')}  «{d['wording']}»")


def heldout(folder: Path, slug: str) -> list[Wanted]:
    import yaml

    entries = yaml.safe_load((folder / f"{slug}-expected.yaml").read_text(encoding="utf-8"))
    return [Wanted(e["clause"], f"{slug}#{e['clause']}", e["field"], e["op"], _values(e, e["field"]), e["wording"])
            for e in entries]


def main(corpus: Path) -> int:
    notes = corpus / "amendments.yaml"
    amendments = load_amendments(notes) if notes.is_file() else {}
    score(f"shipped corpus ({corpus.name}): the hand-written rules", drafts_of(corpus, amendments), hand_written(corpus))
    held = ROOT / "eval" / "drafts"
    for text in sorted(held.glob("*.txt")):
        print()
        score(f"sample text eval/drafts/{text.name} (expected conditions written before the drafter first ran on it)",
              drafts_of(held, {}, text.stem), heldout(held, text.stem))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "corpus"))
