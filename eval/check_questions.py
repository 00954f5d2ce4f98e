#!/usr/bin/env python3
"""Validate an eval question set (eval/*.jsonl, eval/blind/*.jsonl) against the corpus.

Usage: python eval/check_questions.py [eval/questions.jsonl] [corpus_dir]

Hard checks (exit 1 on failure): every line parses; fields exactly as DESIGN.md; ids unique (and, in a
set whose ids all start with q, q001, q002, ... in order; blind sets use their own prefixes); a category
of DESIGN.md; answerable/category consistent; gold_quotes 1-3 (0 for unanswerable), each 8-40 chars and
an exact substring (whitespace removed from both) of some corpus file; must_mention 1-3 (0 for
unanswerable), each present in a clause that contains one of the question's gold quotes. A superseded
question's gold quote is in a clause corpus/amendments.yaml marks, and at least one must_mention (the
current figure or the amending document) is in that amendment's note, number or title, where its other
must_mention may also be found.
Multi-turn lines have fields id, category, answerable, turns, note; each turn has question,
answerable, gold_quotes, must_mention and is checked like a question in its line's category. The first
turn is answerable (it sets the context); the top-level answerable is true iff every turn is; an
out_of_scope line has an unanswerable turn, a line of another category may end on one.
Warnings: gold quote that occurs in more than one clause (other clauses would also count as relevant).
Prints counts per category and per document.

A blind set (a file under eval/blind/) must stay unseen by whoever tunes the answerer: for it only the
counts are printed, and each failed check as its question id and the check's name, never a question's
text, gold quote or must_mention.
"""
import collections
import json
import re
import sys
from pathlib import Path

from bot.text.numerals import NUMERAL_CHARS

FIELDS = ["id", "question", "answerable", "gold_quotes", "must_mention", "category", "note"]
MULTI_FIELDS = ["id", "category", "answerable", "turns", "note"]
TURN_FIELDS = ["question", "answerable", "gold_quotes", "must_mention"]
CATEGORIES = {"amount", "eligibility", "procedure", "responsibility", "target", "lookup", "multi_doc",
              "superseded", "out_of_scope", "trap"}
WS = re.compile(r"\s+")
# clause starts: 第X条 for laws and regulations; (一)/（一） items for documents without articles
ARTICLE_START = re.compile(rf"(?m)^\s*第[{NUMERAL_CHARS}]+条")
ITEM_START = re.compile(rf"(?m)^\s*[(（][{NUMERAL_CHARS}]+[)）]")


def norm(s):
    return WS.sub("", s)


def clauses(text):
    pat = ARTICLE_START if ARTICLE_START.search(text) else ITEM_START
    starts = [m.start() for m in pat.finditer(text)] or [0]
    if starts[0] != 0:
        starts = [0] + starts
    return [norm(text[a:b]) for a, b in zip(starts, starts[1:] + [len(text)])]


class Corpus:
    """The corpus texts, whitespace removed, whole and split into clauses; and each amended clause's
    text with what its amendment says (note, amending document's number and title)."""

    def __init__(self, cdir):
        docs = {p.stem: p.read_text(encoding="utf-8") for p in sorted(Path(cdir).glob("*.txt"))}
        self.docs = {k: norm(v) for k, v in docs.items()}
        self.clauses = {k: clauses(v) for k, v in docs.items()}
        self.amended = amended_clauses(Path(cdir))


def amended_clauses(cdir):
    """[(clause text, [note, by_number, by_title])] of corpus/amendments.yaml, whitespace removed; clause
    texts as the index parses them, so a clause id resolves exactly as the bot resolves it."""
    from bot.ingest.amendments import load_amendments
    from bot.ingest.loaders import load_document
    from bot.ingest.structure import parse_clauses

    if not (cdir / "amendments.yaml").exists():
        return []
    amendments = load_amendments(cdir / "amendments.yaml")
    texts = {c.id: c.text for p in sorted(cdir.glob("*.txt")) for c in parse_clauses(load_document(p))}
    return [(norm(texts[cid]), [norm(a.note), norm(a.by_number), norm(a.by_title)])
            for cid, a in amendments.items() if cid in texts]


class Problems:
    """Failed checks (where, check name, detail) and warnings; a blind set shows no detail."""

    def __init__(self):
        self.errors, self.warnings = [], []

    def error(self, where, check, detail=""):
        self.errors.append((where, check, detail))

    def warn(self, where, check, detail=""):
        self.warnings.append((where, check, detail))


def check_item(where, item, category, corpus, problems):
    """Check one question or one turn (question, answerable, gold_quotes, must_mention); returns the
    documents its gold quotes are in, in order."""
    ans, gq, mm = item.get("answerable"), item.get("gold_quotes", []), item.get("must_mention", [])
    if not isinstance(item.get("question"), str) or not item["question"].strip():
        problems.error(where, "empty question")
    if not isinstance(ans, bool):
        problems.error(where, "answerable not a boolean", repr(ans))
    if not isinstance(gq, list) or not isinstance(mm, list):
        problems.error(where, "gold_quotes/must_mention not lists")
        return []
    if not ans:
        if gq or mm:
            problems.error(where, "unanswerable with gold_quotes/must_mention")
        return []
    if not (1 <= len(gq) <= 3):
        problems.error(where, "gold_quotes count", str(len(gq)))
    if not (1 <= len(mm) <= 3):
        problems.error(where, "must_mention count", str(len(mm)))
    qdocs, qclauses = [], []
    for g in gq:
        ng = norm(g)
        if not (8 <= len(ng) <= 40) or not (8 <= len(g) <= 40):
            problems.error(where, "gold quote length", f"{len(ng)}/{len(g)}: {g}")
        hits = [d for d, t in corpus.docs.items() if ng in t]
        if not hits:
            problems.error(where, "gold quote not in corpus", g)
            continue
        for d in hits:
            if d not in qdocs:
                qdocs.append(d)
            qclauses += [c for c in corpus.clauses[d] if ng in c]
        nclause = sum(1 for d in hits for c in corpus.clauses[d] if ng in c)
        if nclause > 1:
            problems.warn(where, "gold quote in several clauses", f"{nclause} clauses ({', '.join(hits)}): {g}")
    # superseded: the current figure is in the amendment of a clause holding a gold quote, not in its text
    notes = [n for text, ns in corpus.amended if any(norm(g) in text for g in gq) for n in ns] if category == "superseded" else []
    if category == "superseded" and not notes:
        problems.error(where, "superseded without an amended gold clause")
    elif notes and not any(norm(m) and norm(m) in n for m in mm for n in notes):
        problems.error(where, "superseded without a must_mention from the amendment")
    for m in mm:
        nm = norm(m)
        if not nm:
            problems.error(where, "empty must_mention")
        elif any(nm in n for n in notes):
            continue
        elif not any(nm in corpus.docs[d] for d in qdocs):
            problems.error(where, "must_mention not in gold quote's file", m)
        elif qclauses and not any(nm in c for c in qclauses):
            problems.error(where, "must_mention not in a gold quote's clause", m)
    return qdocs


def check_line(q, ln, corpus, problems):
    """Check one question line; returns (id, category, answerable, documents, turns)."""
    qid = q.get("id", f"line{ln}")
    multi = "turns" in q
    want = MULTI_FIELDS if multi else FIELDS
    if list(q.keys()) != want:
        problems.error(qid, "fields", f"{list(q.keys())} != {want}")
    cat, ans = q.get("category"), q.get("answerable")
    if cat not in CATEGORIES:
        problems.error(qid, "unknown category", repr(cat))
    if not isinstance(q.get("note"), str) or not q["note"].strip():
        problems.error(qid, "empty note")
    if not multi:
        if not isinstance(ans, bool) or ans != (cat != "out_of_scope"):
            problems.error(qid, "answerable/category", f"answerable={ans!r}, category {cat}")
        return qid, cat, ans, check_item(qid, q, cat, corpus, problems), 0
    turns = q["turns"]
    if not isinstance(turns, list) or len(turns) < 2:
        problems.error(qid, "turns not a list of at least 2")
        turns = []
    qdocs = []
    for i, t in enumerate(turns, 1):
        if not isinstance(t, dict):
            problems.error(f"{qid} turn {i}", "turn not an object")
            continue
        if list(t.keys()) != TURN_FIELDS:
            problems.error(f"{qid} turn {i}", "fields", f"{list(t.keys())} != {TURN_FIELDS}")
        qdocs += [d for d in check_item(f"{qid} turn {i}", t, cat, corpus, problems) if d not in qdocs]
    whole = all(isinstance(t, dict) and t.get("answerable") is True for t in turns)
    if turns and ans != whole:
        problems.error(qid, "top-level answerable vs turns", f"answerable={ans!r}, all turns answerable {whole}")
    if turns and isinstance(turns[0], dict) and turns[0].get("answerable") is not True:
        problems.error(qid, "first turn unanswerable")
    if cat == "out_of_scope" and ans is not False:
        problems.error(qid, "answerable/category", f"answerable={ans!r}, category {cat}")
    return qid, cat, ans, qdocs, len(turns)


def main():
    from bot.evaluation.sets import is_blind

    qpath = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("questions.jsonl"))
    cdir = Path(sys.argv[2] if len(sys.argv) > 2 else Path(__file__).resolve().parent.parent / "corpus")
    blind = is_blind(qpath)
    corpus = Corpus(cdir)
    problems = Problems()
    ids = []
    by_cat, by_doc = collections.Counter(), collections.Counter()
    by_doc_cat = collections.defaultdict(collections.Counter)
    n = n_multi = n_turns = n_unanswerable = 0
    for ln, line in enumerate(qpath.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            problems.error(f"line {ln}", "blank line")
            continue
        try:
            q = json.loads(line)
        except json.JSONDecodeError as e:
            problems.error(f"line {ln}", "bad JSON", str(e))
            continue
        if not isinstance(q, dict):
            problems.error(f"line {ln}", "not a JSON object")
            continue
        n += 1
        qid, cat, ans, qdocs, turns = check_line(q, ln, corpus, problems)
        if qid in ids:
            problems.error(qid, "duplicate id")
        ids.append(qid)
        n_multi += bool(turns)
        n_turns += turns
        n_unanswerable += ans is False
        by_cat[cat] += 1
        doc = qdocs[0] if qdocs else "(none: out_of_scope)" if not ans else "(unresolved)"
        by_doc[doc] += 1
        by_doc_cat[doc][cat] += 1
    if ids and all(str(i).startswith("q") for i in ids):  # the development set's numbering
        for i in ids:
            if not re.fullmatch(r"q\d{3}", str(i)):
                problems.error(i, "id format")
        numbers = [int(i[1:]) for i in ids if re.fullmatch(r"q\d{3}", str(i))]
        if numbers != list(range(1, len(numbers) + 1)):
            problems.error("ids", "not q001, q002, ... in file order")
    print(f"file: {qpath}{' (blind: counts and check names only)' if blind else ''}  questions: {n}  "
          f"answerable: {n - n_unanswerable}  unanswerable: {n_unanswerable}  multi-turn: {n_multi} ({n_turns} turns)")
    print("\nper category:")
    for c in sorted(CATEGORIES):
        print(f"  {c:15s} {by_cat[c]:4d}")
    print("\nper document (first gold quote's file; multi-turn: over all turns):")
    for d, k in sorted(by_doc.items(), key=lambda x: -x[1]):
        cats = ", ".join(f"{c} {v}" for c, v in sorted(by_doc_cat[d].items()))
        print(f"  {d:62s} {k:4d}   [{cats}]")

    def show(where, check, detail):
        return f"  {where}: {check}" + ("" if blind or not detail else f": {detail}")

    if problems.warnings:
        print(f"\nwarnings ({len(problems.warnings)}):")
        for w in problems.warnings:
            print(show(*w))
    if problems.errors:
        print(f"\nERRORS ({len(problems.errors)}):")
        for e in problems.errors:
            print(show(*e))
        print("\nFAIL")
        return 1
    print("\nPASS: all hard checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
