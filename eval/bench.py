"""Speed figures for the README, measured the way a user meets them.

Ingest and cold search run as new processes (process start and model load included); warm search
latency is timed in-process with one PolicyBot. Everything runs on the shipped corpus in a fresh
temporary index folder, so the numbers never depend on whatever index/ holds.

    python eval/bench.py [--index-dir DIR] [--queries eval/questions.jsonl] [--runs 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = "研发费用加计扣除"
TORCH_CHECK = "import sys, bot.cli; rc = bot.cli.main(sys.argv[1:]); print('torch' in sys.modules); sys.exit(rc)"


def run_cli(args: list[str], env: dict[str, str], code: str | None = None) -> tuple[float, str]:
    """Run `python -m bot.cli ARGS` (or `python -c CODE ARGS`) from the repo root; wall seconds, stdout."""
    cmd = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "bot.cli", *args]
    started = time.perf_counter()
    done = subprocess.run(cmd, check=False, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"bench: {' '.join(args)} failed ({done.returncode}):\n{done.stderr.strip()}")
    return wall, done.stdout


def timed_ingest(env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds of `policybot ingest --quiet corpus/` and how many chunks it newly embedded."""
    wall, out = run_cli(["ingest", "--quiet", str(ROOT / "corpus")], env)
    found = re.search(r"新嵌入 (\d+)", out)
    if not found:
        sys.exit(f"bench: cannot read the embedded count from the ingest summary:\n{out}")
    return wall, int(found.group(1))


def search_latencies(index_dir: Path, questions: list[str]) -> dict[str, list[float]]:
    """Per-mode search latencies (ms) of every question, k=5, after 3 warm-up queries, one PolicyBot;
    and `ask` (extractive answer: retrieve, decide, compose, verify) under the key "ask"."""
    from bot.service import build_bot
    from bot.settings import Settings

    bot = build_bot(Settings.from_env(index_dir=index_dir))
    out: dict[str, list[float]] = {}
    for mode in ("hybrid", "dense", "bm25"):
        for q in questions[:3]:
            bot.search(q, 5, mode)
        out[mode] = []
        for q in questions:
            started = time.perf_counter()
            bot.search(q, 5, mode)
            out[mode].append((time.perf_counter() - started) * 1000)
    for q in questions[:3]:
        bot.ask(q)
    out["ask"] = []
    for q in questions:
        started = time.perf_counter()
        bot.ask(q)
        out["ask"].append((time.perf_counter() - started) * 1000)
    return out


def dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def machine() -> dict[str, object]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": model.group(1).strip() if model else platform.processor() or "?",
        "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
        "load_1min": os.getloadavg()[0],  # other work on the machine skews every figure
    }


def bench(index_dir: Path, queries: Path, runs: int) -> dict[str, object]:
    from bot.evaluate import load_questions, percentile
    from bot.index import read_current

    env = {**os.environ, "POLICYBOT_INDEX_DIR": str(index_dir)}
    figures: dict[str, object] = {"machine": machine()}
    figures["ingest_s"], figures["ingest_embedded"] = timed_ingest(env)
    figures["reingest_s"], figures["reingest_embedded"] = timed_ingest(env)
    if figures["reingest_embedded"] != 0:
        sys.exit(f"bench: re-ingest of the unchanged corpus embedded {figures['reingest_embedded']} chunks, expected 0")

    questions = [q.question for q in load_questions(queries)]
    latencies = search_latencies(index_dir, questions)
    figures["queries"] = len(questions)
    for mode, ms in latencies.items():
        figures[f"{mode}_p50_ms"], figures[f"{mode}_p95_ms"] = percentile(ms, 50), percentile(ms, 95)
    figures["search_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    walls = [run_cli(["search", PROBE, "--json"], env)[0] for _ in range(runs)]
    figures["cold_search_s"] = sorted(walls)[len(walls) // 2]
    _, out = run_cli(["search", PROBE, "--json"], env, code=TORCH_CHECK)
    figures["cold_search_imports_torch"] = out.strip().splitlines()[-1] == "True"

    figures["index_mb"] = dir_mb(index_dir / read_current(index_dir))
    figures["index_dir_mb"] = dir_mb(index_dir)
    return figures


def table(f: dict) -> str:
    rows = [
        ("ingest of corpus/ from scratch (new process)", f"{f['ingest_s']:.1f} s", "≤ 30 s"),
        ("chunks embedded", f"{f['ingest_embedded']}", ""),
        ("re-ingest, corpus unchanged (new process)", f"{f['reingest_s']:.1f} s", "≤ 3 s"),
        ("chunks newly embedded on re-ingest", f"{f['reingest_embedded']}", "0"),
        *[
            (f"warm search {mode}, k=5, p50 / p95 ({f['queries']} questions)",
             f"{f[f'{mode}_p50_ms']:.1f} / {f[f'{mode}_p95_ms']:.1f} ms", "p95 ≤ 40 ms" if mode == "hybrid" else "")
            for mode in ("hybrid", "dense", "bm25")
        ],
        (f"warm ask (extractive), p50 / p95 ({f['queries']} questions)",
         f"{f['ask_p50_ms']:.1f} / {f['ask_p95_ms']:.1f} ms", "p95 ≤ 60 ms"),
        (f'cold `policybot search "{PROBE}" --json` (median)', f"{f['cold_search_s']:.2f} s", "≤ 3 s"),
        ("torch imported on the search path", "yes" if f["cold_search_imports_torch"] else "no", "no"),
        ("index on disk (serving generation)", f"{f['index_mb']:.1f} MB", ""),
        ("index folder (keeps the previous generation)", f"{f['index_dir_mb']:.1f} MB", ""),
        ("peak RSS, in-process search", f"{f['search_peak_rss_mb']:.0f} MB", ""),
    ]
    lines = ["| figure | value | target |", "| --- | --- | --- |"]
    return "\n".join(lines + [f"| {a} | {b} | {c} |" for a, b, c in rows])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, help="an empty or new folder to build in (default: a temp dir)")
    parser.add_argument("--queries", type=Path, default=ROOT / "eval" / "questions.jsonl", help="JSONL question set")
    parser.add_argument("--runs", type=int, default=3, help="cold-search runs; the median is reported (default 3)")
    parser.add_argument("--json", type=Path, help="also write all figures to this JSON file")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    if args.index_dir and args.index_dir.exists() and any(args.index_dir.iterdir()):
        parser.error(f"--index-dir {args.index_dir} is not empty; ingest from scratch needs an empty folder")

    with tempfile.TemporaryDirectory(prefix="policybot-bench-") as tmp:
        figures = bench((args.index_dir or Path(tmp)).resolve(), args.queries, args.runs)
    m = figures["machine"]
    print(f"PolicyBot bench, {m['date']}: {m['nproc']} CPUs ({m['cpu']}), Python {m['python']}", end="")
    print(f", load {m['load_1min']:.1f} at start\n")
    print(table(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
