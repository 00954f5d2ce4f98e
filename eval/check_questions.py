#!/usr/bin/env python3
"""Validate an eval question set (eval/*.jsonl) against the corpus.

Usage: python eval/check_questions.py [eval/questions.jsonl] [corpus_dir]

Hard checks (exit 1 on failure): every line parses; fields exactly as DESIGN.md; ids unique;
answerable/category consistent; gold_quotes 1-3 (0 for unanswerable), each 8-40 chars and an exact
substring (whitespace removed from both) of some corpus file; must_mention 1-3 (0 for unanswerable),
each present in a file that contains one of the question's gold quotes.
Warnings: must_mention not in the *clause* of a gold quote; gold quote that occurs in more than one
clause (other clauses would also count as relevant).
Prints counts per category and per document.
"""
import collections, json, re, sys
from pathlib import Path

FIELDS = ["id", "question", "answerable", "gold_quotes", "must_mention", "category", "note"]
CATEGORIES = {"amount", "eligibility", "procedure", "responsibility", "target", "lookup",
              "out_of_scope", "trap"}
WS = re.compile(r"\s+")
# clause starts: 第X条 for laws and regulations; (一)/（一） items for documents without articles
ARTICLE_START = re.compile(r"(?m)^\s*第[一二三四五六七八九十百零〇]+条")
ITEM_START = re.compile(r"(?m)^\s*[(（][一二三四五六七八九十]+[)）]")


def norm(s):
    return WS.sub("", s)


def clauses(text):
    pat = ARTICLE_START if ARTICLE_START.search(text) else ITEM_START
    starts = [m.start() for m in pat.finditer(text)] or [0]
    if starts[0] != 0:
        starts = [0] + starts
    return [norm(text[a:b]) for a, b in zip(starts, starts[1:] + [len(text)])]


def main():
    qpath = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("questions.jsonl"))
    cdir = Path(sys.argv[2] if len(sys.argv) > 2 else Path(__file__).resolve().parent.parent / "corpus")
    docs = {p.stem: p.read_text(encoding="utf-8") for p in sorted(cdir.glob("*.txt"))}
    ndocs = {k: norm(v) for k, v in docs.items()}
    dclauses = {k: clauses(v) for k, v in docs.items()}
    errors, warnings = [], []
    ids = set()
    by_cat, by_doc = collections.Counter(), collections.Counter()
    by_doc_cat = collections.defaultdict(collections.Counter)
    n = 0
    for ln, line in enumerate(qpath.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            errors.append(f"line {ln}: blank line"); continue
        try:
            q = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"line {ln}: bad JSON: {e}"); continue
        n += 1
        qid = q.get("id", f"line{ln}")
        if list(q.keys()) != FIELDS:
            errors.append(f"{qid}: fields {list(q.keys())} != {FIELDS}")
        if not re.fullmatch(r"q\d{3}", str(qid)):
            errors.append(f"{qid}: id format")
        if qid in ids:
            errors.append(f"{qid}: duplicate id")
        ids.add(qid)
        cat, ans = q.get("category"), q.get("answerable")
        gq, mm = q.get("gold_quotes", []), q.get("must_mention", [])
        if cat not in CATEGORIES:
            errors.append(f"{qid}: unknown category {cat!r}")
        if not isinstance(ans, bool) or ans != (cat != "out_of_scope"):
            errors.append(f"{qid}: answerable={ans!r} inconsistent with category {cat}")
        if not isinstance(q.get("question"), str) or not q["question"].strip():
            errors.append(f"{qid}: empty question")
        if not isinstance(q.get("note"), str) or not q["note"].strip():
            errors.append(f"{qid}: empty note")
        by_cat[cat] += 1
        if not ans:
            if gq or mm:
                errors.append(f"{qid}: unanswerable must have empty gold_quotes/must_mention")
            by_doc["(none: out_of_scope)"] += 1
            by_doc_cat["(none: out_of_scope)"][cat] += 1
            continue
        if not (1 <= len(gq) <= 3):
            errors.append(f"{qid}: {len(gq)} gold quotes")
        if not (1 <= len(mm) <= 3):
            errors.append(f"{qid}: {len(mm)} must_mention")
        qdocs, qclauses = [], []
        for g in gq:
            ng = norm(g)
            if not (8 <= len(ng) <= 40) or not (8 <= len(g) <= 40):
                errors.append(f"{qid}: gold quote length {len(ng)}/{len(g)}: {g}")
            hits = [d for d, t in ndocs.items() if ng in t]
            if not hits:
                errors.append(f"{qid}: gold quote not in corpus: {g}"); continue
            for d in hits:
                if d not in qdocs:
                    qdocs.append(d)
                cl = [c for c in dclauses[d] if ng in c]
                qclauses += cl
            nclause = sum(1 for d in hits for c in dclauses[d] if ng in c)
            if nclause > 1:
                warnings.append(f"{qid}: gold quote occurs in {nclause} clauses ({', '.join(hits)}): {g}")
        for m in mm:
            nm = norm(m)
            if not nm:
                errors.append(f"{qid}: empty must_mention"); continue
            if not any(nm in ndocs[d] for d in qdocs):
                errors.append(f"{qid}: must_mention not in gold quote's file: {m}")
            elif qclauses and not any(nm in c for c in qclauses):
                warnings.append(f"{qid}: must_mention not in a gold quote's clause: {m}")
        doc = qdocs[0] if qdocs else "(unresolved)"
        by_doc[doc] += 1
        by_doc_cat[doc][cat] += 1
    print(f"file: {qpath}  questions: {n}  answerable: {n - by_cat['out_of_scope']}  "
          f"unanswerable: {by_cat['out_of_scope']}")
    print("\nper category:")
    for c in sorted(CATEGORIES):
        print(f"  {c:15s} {by_cat[c]:4d}")
    print("\nper document (first gold quote's file):")
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
