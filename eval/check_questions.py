#!/usr/bin/env python3
"""Validate an eval question set (eval/*.jsonl) against the corpus.

Usage: python eval/check_questions.py [eval/questions.jsonl] [corpus_dir]

Hard checks (exit 1 on failure): every line parses; fields exactly as DESIGN.md; ids unique and
q001, q002, ... in order; known category; answerable/category consistent; gold_quotes 1-3 (0 for
unanswerable), each 8-40 chars and an exact substring (whitespace removed from both) of some corpus
file; must_mention 1-3 (0 for unanswerable), each present in a clause that contains one of the
question's gold quotes.
Multi-turn lines have fields id, category, answerable, turns, note; each turn has question,
answerable, gold_quotes, must_mention and is checked like a question. The first turn is answerable
(it sets the context); the top-level answerable is true iff every turn is.
Warnings: gold quote that occurs in more than one clause (other clauses would also count as relevant).
Prints counts per category and per document.
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
CATEGORIES = {"amount", "eligibility", "procedure", "responsibility", "target", "lookup",
              "out_of_scope", "trap"}
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
    """The corpus texts, whitespace removed, whole and split into clauses."""

    def __init__(self, cdir):
        docs = {p.stem: p.read_text(encoding="utf-8") for p in sorted(Path(cdir).glob("*.txt"))}
        self.docs = {k: norm(v) for k, v in docs.items()}
        self.clauses = {k: clauses(v) for k, v in docs.items()}


def check_item(where, item, corpus, errors, warnings):
    """Check one question or one turn (question, answerable, gold_quotes, must_mention); returns the
    documents its gold quotes are in, in order."""
    ans, gq, mm = item.get("answerable"), item.get("gold_quotes", []), item.get("must_mention", [])
    if not isinstance(item.get("question"), str) or not item["question"].strip():
        errors.append(f"{where}: empty question")
    if not isinstance(ans, bool):
        errors.append(f"{where}: answerable={ans!r} is not a boolean")
    if not isinstance(gq, list) or not isinstance(mm, list):
        errors.append(f"{where}: gold_quotes and must_mention must be lists")
        return []
    if not ans:
        if gq or mm:
            errors.append(f"{where}: unanswerable must have empty gold_quotes/must_mention")
        return []
    if not (1 <= len(gq) <= 3):
        errors.append(f"{where}: {len(gq)} gold quotes")
    if not (1 <= len(mm) <= 3):
        errors.append(f"{where}: {len(mm)} must_mention")
    qdocs, qclauses = [], []
    for g in gq:
        ng = norm(g)
        if not (8 <= len(ng) <= 40) or not (8 <= len(g) <= 40):
            errors.append(f"{where}: gold quote length {len(ng)}/{len(g)}: {g}")
        hits = [d for d, t in corpus.docs.items() if ng in t]
        if not hits:
            errors.append(f"{where}: gold quote not in corpus: {g}")
            continue
        for d in hits:
            if d not in qdocs:
                qdocs.append(d)
            qclauses += [c for c in corpus.clauses[d] if ng in c]
        nclause = sum(1 for d in hits for c in corpus.clauses[d] if ng in c)
        if nclause > 1:
            warnings.append(f"{where}: gold quote occurs in {nclause} clauses ({', '.join(hits)}): {g}")
    for m in mm:
        nm = norm(m)
        if not nm:
            errors.append(f"{where}: empty must_mention")
            continue
        if not any(nm in corpus.docs[d] for d in qdocs):
            errors.append(f"{where}: must_mention not in gold quote's file: {m}")
        elif qclauses and not any(nm in c for c in qclauses):
            errors.append(f"{where}: must_mention not in a gold quote's clause: {m}")
    return qdocs


def main():
    qpath = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("questions.jsonl"))
    cdir = Path(sys.argv[2] if len(sys.argv) > 2 else Path(__file__).resolve().parent.parent / "corpus")
    corpus = Corpus(cdir)
    errors, warnings = [], []
    ids = []
    by_cat, by_doc = collections.Counter(), collections.Counter()
    by_doc_cat = collections.defaultdict(collections.Counter)
    n = n_multi = n_turns = 0
    for ln, line in enumerate(qpath.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            errors.append(f"line {ln}: blank line")
            continue
        try:
            q = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"line {ln}: bad JSON: {e}")
            continue
        if not isinstance(q, dict):
            errors.append(f"line {ln}: not a JSON object")
            continue
        n += 1
        qid = q.get("id", f"line{ln}")
        multi = "turns" in q
        want = MULTI_FIELDS if multi else FIELDS
        if list(q.keys()) != want:
            errors.append(f"{qid}: fields {list(q.keys())} != {want}")
        if not re.fullmatch(r"q\d{3}", str(qid)):
            errors.append(f"{qid}: id format")
        if qid in ids:
            errors.append(f"{qid}: duplicate id")
        ids.append(qid)
        cat, ans = q.get("category"), q.get("answerable")
        if cat not in CATEGORIES:
            errors.append(f"{qid}: unknown category {cat!r}")
        if not isinstance(q.get("note"), str) or not q["note"].strip():
            errors.append(f"{qid}: empty note")
        if multi:
            turns = q["turns"]
            if not isinstance(turns, list) or len(turns) < 2:
                errors.append(f"{qid}: turns must be a list of at least 2")
                turns = []
            n_multi += 1
            n_turns += len(turns)
            qdocs = []
            for i, t in enumerate(turns, 1):
                if not isinstance(t, dict):
                    errors.append(f"{qid} turn {i}: not an object")
                    continue
                if list(t.keys()) != TURN_FIELDS:
                    errors.append(f"{qid} turn {i}: fields {list(t.keys())} != {TURN_FIELDS}")
                qdocs += [d for d in check_item(f"{qid} turn {i}", t, corpus, errors, warnings) if d not in qdocs]
            whole = all(isinstance(t, dict) and t.get("answerable") is True for t in turns)
            if turns and ans != whole:
                errors.append(f"{qid}: top-level answerable={ans!r} but all turns answerable is {whole}")
            if turns and isinstance(turns[0], dict) and turns[0].get("answerable") is not True:
                errors.append(f"{qid}: the first turn must be answerable (it sets the context)")
        else:
            qdocs = check_item(qid, q, corpus, errors, warnings)
        if not isinstance(ans, bool) or ans != (cat != "out_of_scope"):
            errors.append(f"{qid}: answerable={ans!r} inconsistent with category {cat}")
        by_cat[cat] += 1
        doc = qdocs[0] if qdocs else "(none: out_of_scope)" if not ans else "(unresolved)"
        by_doc[doc] += 1
        by_doc_cat[doc][cat] += 1
    numbers = [int(i[1:]) for i in ids if re.fullmatch(r"q\d{3}", str(i))]
    if numbers != list(range(1, len(numbers) + 1)):
        errors.append("ids are not q001, q002, ... in file order")
    print(f"file: {qpath}  questions: {n}  answerable: {n - by_cat['out_of_scope']}  "
          f"unanswerable: {by_cat['out_of_scope']}  multi-turn: {n_multi} ({n_turns} turns)")
    print("\nper category:")
    for c in sorted(CATEGORIES):
        print(f"  {c:15s} {by_cat[c]:4d}")
    print("\nper document (first gold quote's file; multi-turn: over all turns):")
    for d, k in sorted(by_doc.items(), key=lambda x: -x[1]):
        cats = ", ".join(f"{c} {v}" for c, v in sorted(by_doc_cat[d].items()))
        print(f"  {d:62s} {k:4d}   [{cats}]")
    if warnings:
        print(f"\nwarnings ({len(warnings)}):")
        for w in warnings:
            print("  " + w)
    if errors:
        print(f"\nERRORS ({len(errors)}):")
        for e in errors:
            print("  " + e)
        return 1
    print("\nOK: all hard checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
