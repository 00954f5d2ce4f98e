"""What an answer costs beyond embedding its question, measured in one run (issue 16: ask p95 / embed p95 <= 1.6).

One process, one PolicyBot, the same questions (each line of the set; a multi-turn line by its first
turn): the embedder's `embed_query` alone, and `bot.ask` (the extractive answer: retrieve, decide,
compose, verify). One warm-up pass of both over all questions comes first (models loaded, caches of
tokens and clause spans filled, as in a running app); the timed pass then alternates the two
question by question, so load from other work on the machine falls on both alike. The query
embedding is not cached, so each timed ask pays for its own.

    python eval/bench_ask.py [--index-dir DIR] [--queries eval/questions.jsonl] [--json FILE]

Without --index-dir the configured index (POLICYBOT_INDEX_DIR, default index/) is used; when there is
none, corpus/ is ingested into a temporary folder first.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.6  # issue 16: a warm answer's p95 at most this many times a bare query embedding's p95


def _ms(call, *args) -> float:
    started = time.perf_counter()
    call(*args)
    return (time.perf_counter() - started) * 1000


def measure(bot, questions: Sequence[str]) -> dict[str, float]:
    """p50/p95 of embed_query and of ask over `questions`, after one warm-up pass, and their p95 ratio."""
    from bot.evaluation.metrics import percentile

    for q in questions:
        bot.embedder.embed_query(q)
        bot.ask(q)
    embed, ask = [], []
    for q in questions:
        embed.append(_ms(bot.embedder.embed_query, q))
        ask.append(_ms(bot.ask, q))
    out = {"questions": len(questions)}
    for name, ms in (("embed", embed), ("ask", ask)):
        out[f"{name}_p50_ms"], out[f"{name}_p95_ms"] = percentile(ms, 50), percentile(ms, 95)
    out["ask_over_embed_p95"] = out["ask_p95_ms"] / out["embed_p95_ms"]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, help="a built index (default: the configured one, else a fresh temporary one)")
    parser.add_argument("--queries", type=Path, default=ROOT / "eval" / "questions.jsonl", help="JSONL question set")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)

    from bot.evaluation.questions import load_questions
    from bot.index.store import read_current
    from bot.service import build_bot
    from bot.settings import Settings

    questions = [q.question for q in load_questions(args.queries)]
    with tempfile.TemporaryDirectory(prefix="policybot-bench-ask-") as tmp:
        # No query-embedding cache (bot/index/embedders.py): each timed ask and embedding pays its own.
        settings = Settings.from_env(index_dir=args.index_dir, corpus_dir=ROOT / "corpus", query_cache=0)
        if not read_current(settings.index_dir):
            if args.index_dir:
                parser.error(f"--index-dir {args.index_dir} holds no built index")
            print(f"no index at {settings.index_dir}: ingesting corpus/ into a temporary folder", file=sys.stderr)
            settings = Settings.from_env(index_dir=Path(tmp) / "index", corpus_dir=ROOT / "corpus", query_cache=0)
        bot = build_bot(settings)
        bot.ensure_index()
        figures = measure(bot, questions)
    figures["load_1min"] = os.getloadavg()[0]  # other work on the machine skews both timings
    print(f"{figures['questions']} questions ({args.queries.name}), one warm-up pass, then timed alternately; "
          f"load {figures['load_1min']:.1f}")
    print(f"query embedding alone  p50 {figures['embed_p50_ms']:.1f} ms  p95 {figures['embed_p95_ms']:.1f} ms")
    print(f"warm ask (extractive)  p50 {figures['ask_p50_ms']:.1f} ms  p95 {figures['ask_p95_ms']:.1f} ms")
    ratio = figures["ask_over_embed_p95"]
    print(f"ask p95 / embed p95 = {ratio:.2f} (target <= {TARGET}: {'met' if ratio <= TARGET else 'NOT met'})")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
