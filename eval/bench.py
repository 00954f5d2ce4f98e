"""Speed figures for the README, measured the way a user meets them.

Ingest and cold search run as new processes (process start and model load included); warm search
latency is timed in-process with one PolicyBot. Everything runs on the shipped corpus in a fresh
temporary index folder, so the numbers never depend on whatever index/ holds.

`--scale N` runs on a synthetic corpus N times the shipped one: the originals plus N-1 perturbed
copies of every file (zone-name title prefix, figures changed, synonyms swapped, sentences of a
clause shuffled), so no copy is a duplicate the ingest could reuse. `--growth A.json B.json` prints
how each figure grew between two saved runs.

    python eval/bench.py [--index-dir DIR] [--queries eval/questions.jsonl] [--runs 3] [--json FILE]
    python eval/bench.py --scale 50 --json /tmp/bench-50x.json
    python eval/bench.py --growth /tmp/bench-1x.json /tmp/bench-50x.json
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


ZONES = ["贵阳国家高新区", "遵义高新区", "安顺高新区", "六盘水高新区", "毕节高新区", "铜仁高新区", "黔南高新区",
         "黔东南高新区", "黔西南高新区", "贵安新区", "仁怀高新区", "都匀高新区", "凯里高新区"]
SYNONYMS = {"支持": "扶持", "鼓励": "引导", "给予": "提供", "有关": "相关", "加快": "加速", "推动": "促进",
            "企业": "单位", "部门": "机关", "规定": "要求", "实施": "推行", "建立": "设立", "提高": "提升"}
_FIGURE = re.compile(r"(\d+)(?=\s*(?:万元|亿元|%|％|岁|人|个|家|项|倍))")


def perturb(text: str, copy: int) -> str:
    """A copy of a corpus file that reads like another zone's policy: same structure, other words.

    The header block (up to the first blank line) keeps its fields; the title gets a zone prefix.
    In the body, figures before a unit change, a seeded half of SYNONYMS is swapped, the sentences
    after the first of each line are shuffled (the first holds any clause heading), and the zone is
    named at the end of sentences."""
    import random

    rng = random.Random(copy)
    zone = f"{ZONES[copy % len(ZONES)]}{copy // len(ZONES) + 1}号片区"
    head, _, body = text.partition("\n\n")
    head_lines = head.splitlines()
    if any(line.startswith("标题:") for line in head_lines):
        head = "\n".join(f"标题: {zone}{line[3:].strip()}" if line.startswith("标题:") else line for line in head_lines)
    else:  # the title is the file's first line
        head = "\n".join([zone + head_lines[0], *head_lines[1:]])
    swaps = dict(rng.sample(sorted(SYNONYMS.items()), len(SYNONYMS) // 2))
    lines = []
    for line in body.split("\n"):
        line = _FIGURE.sub(lambda m: str(int(m.group(1)) + copy), line)
        for a, b in swaps.items():
            line = line.replace(a, b)
        parts = [p for p in re.split(r"(?<=。)", line) if p]
        if len(parts) >= 3:
            first, rest = parts[0], parts[1:]
            rng.shuffle(rest)
            parts = [first, *rest]
        # The zone named in the first sentence and in about half of the others: every chunk of a
        # copy differs from its original, so the ingest cannot reuse a vector for it.
        parts = [p[:-1] + f"（{zone}）。" if p.endswith("。") and (i == 0 or rng.random() < 0.5) else p
                 for i, p in enumerate(parts)]
        lines.append("".join(parts))
    return head + "\n\n" + "\n".join(lines)


def synthetic_corpus(folder: Path, scale: int) -> Path:
    """The shipped corpus files plus scale-1 perturbed copies of each, written into folder."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        shutil.copy(path, folder / path.name)
        text = path.read_text(encoding="utf-8")
        for copy in range(1, scale):
            (folder / f"{path.stem}-z{copy:03d}.txt").write_text(perturb(text, copy), encoding="utf-8")
    return folder


def timed_ingest(env: dict[str, str], corpus: Path = ROOT / "corpus") -> tuple[float, int]:
    """Wall seconds of `policybot ingest --quiet CORPUS` and how many chunks it newly embedded."""
    wall, out = run_cli(["ingest", "--quiet", str(corpus)], env)
    found = re.search(r"新嵌入 (\d+)", out)
    if not found:
        sys.exit(f"bench: cannot read the embedded count from the ingest summary:\n{out}")
    return wall, int(found.group(1))


def search_latencies(index_dir: Path, questions: list[str]) -> dict[str, list[float]]:
    """Per-mode search latencies (ms) of every question, k=5, after 3 warm-up queries, one PolicyBot;
    and `ask` (extractive answer: retrieve, decide, compose, verify) under the key "ask"."""
    from bot.service import build_bot
    from bot.settings import Settings

    # No query-embedding cache: each mode asks every question again, and each must pay its own embedding.
    bot = build_bot(Settings.from_env(index_dir=index_dir, query_cache=0))
    out: dict[str, list[float]] = {"embed": []}  # the query embedding alone: dense = embed + Chroma HNSW
    for q in questions[:3]:
        bot.embedder.embed_query(q)
    for q in questions:
        started = time.perf_counter()
        bot.embedder.embed_query(q)
        out["embed"].append((time.perf_counter() - started) * 1000)
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


def bench(index_dir: Path, queries: Path, runs: int, corpus: Path = ROOT / "corpus", scale: int = 1) -> dict[str, object]:
    from bot.evaluation.metrics import percentile
    from bot.evaluation.questions import load_questions
    from bot.index.store import read_current

    # Shipped vectors off: the figures are of embedding, as for any corpus but the shipped one.
    env = {**os.environ, "POLICYBOT_INDEX_DIR": str(index_dir), "POLICYBOT_SHIPPED_VECTORS": "0"}
    figures: dict[str, object] = {"machine": machine(), "scale": scale}
    figures["corpus_files"] = sum(1 for _ in corpus.glob("*.txt"))
    figures["corpus_mb"] = sum(f.stat().st_size for f in corpus.glob("*.txt")) / 2**20
    figures["ingest_s"], figures["ingest_embedded"] = timed_ingest(env, corpus)
    figures["ingest_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    figures["reingest_s"], figures["reingest_embedded"] = timed_ingest(env, corpus)
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
    scale = f.get("scale", 1)
    big = scale > 1
    what = f"the {scale}× synthetic corpus ({f.get('corpus_files', '?')} files, {f.get('corpus_mb', 0):.1f} MB)" if big else "corpus/"
    rows = [
        (f"ingest of {what} from scratch (new process)", f"{f['ingest_s']:.1f} s", "linear in corpus size" if big else "≤ 30 s"),
        ("chunks embedded", f"{f['ingest_embedded']}", ""),
        ("peak RSS, ingest process", f"{f.get('ingest_peak_rss_mb', 0):.0f} MB", ""),
        ("re-ingest, corpus unchanged (new process)", f"{f['reingest_s']:.1f} s", "" if big else "≤ 3 s"),
        ("chunks newly embedded on re-ingest", f"{f['reingest_embedded']}", "0"),
        *[
            (f"warm search {mode}, k=5, p50 / p95 ({f['queries']} questions)",
             f"{f[f'{mode}_p50_ms']:.1f} / {f[f'{mode}_p95_ms']:.1f} ms",
             ("p95 ≤ 60 ms" if big else "p95 ≤ 40 ms") if mode == "hybrid" else "")
            for mode in ("hybrid", "dense", "bm25")
        ],
        *([("query embedding alone (part of dense and hybrid), p50 / p95",
             f"{f['embed_p50_ms']:.1f} / {f['embed_p95_ms']:.1f} ms", "")] if "embed_p50_ms" in f else []),
        (f"warm ask (extractive), p50 / p95 ({f['queries']} questions)",
         f"{f['ask_p50_ms']:.1f} / {f['ask_p95_ms']:.1f} ms", "" if big else "p95 ≤ 60 ms"),
        (f'cold `policybot search "{PROBE}" --json` (median)', f"{f['cold_search_s']:.2f} s", "" if big else "≤ 3 s"),
        ("torch imported on the search path", "yes" if f["cold_search_imports_torch"] else "no", "no"),
        ("index on disk (serving generation)", f"{f['index_mb']:.1f} MB", ""),
        ("index folder (keeps the previous generation)", f"{f['index_dir_mb']:.1f} MB", ""),
        ("peak RSS, in-process search", f"{f['search_peak_rss_mb']:.0f} MB", ""),
    ]
    lines = ["| figure | value | target |", "| --- | --- | --- |"]
    return "\n".join(lines + [f"| {a} | {b} | {c} |" for a, b, c in rows])


GROWTH = [  # (label, key, unit)
    ("corpus size", "corpus_mb", "MB"),
    ("chunks embedded", "ingest_embedded", ""),
    ("ingest from scratch", "ingest_s", "s"),
    ("re-ingest, unchanged", "reingest_s", "s"),
    ("peak RSS, ingest", "ingest_peak_rss_mb", "MB"),
    ("search hybrid p50", "hybrid_p50_ms", "ms"),
    ("search hybrid p95", "hybrid_p95_ms", "ms"),
    ("search dense p95", "dense_p95_ms", "ms"),
    ("search bm25 p95", "bm25_p95_ms", "ms"),
    ("query embedding p95", "embed_p95_ms", "ms"),
    ("ask p50", "ask_p50_ms", "ms"),
    ("ask p95", "ask_p95_ms", "ms"),
    ("cold search", "cold_search_s", "s"),
    ("index on disk", "index_mb", "MB"),
    ("peak RSS, search", "search_peak_rss_mb", "MB"),
]


def growth_table(small: dict, large: dict) -> str:
    """Each figure at both scales and its ratio; ingest is judged against the corpus-size ratio."""
    a, b = small.get("scale", 1), large.get("scale", 1)
    size = large["ingest_embedded"] / max(1, small["ingest_embedded"])
    lines = [f"| figure | {a}× | {b}× | growth | per unit of corpus growth ({size:.1f}× chunks) |", "| --- | --- | --- | --- | --- |"]
    for label, key, unit in GROWTH:
        if key not in small or key not in large:
            continue
        x, y = float(small[key]), float(large[key])
        ratio = y / x if x else float("inf")
        lines.append(f"| {label} | {x:.1f} {unit} | {y:.1f} {unit} | ×{ratio:.2f} | {ratio / size:.2f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, help="an empty or new folder to build in (default: a temp dir)")
    parser.add_argument("--queries", type=Path, default=ROOT / "eval" / "questions.jsonl", help="JSONL question set")
    parser.add_argument("--runs", type=int, default=3, help="cold-search runs; the median is reported (default 3)")
    parser.add_argument("--scale", type=int, default=1, help="synthetic corpus N times the shipped one (default 1)")
    parser.add_argument("--json", type=Path, help="also write all figures to this JSON file")
    parser.add_argument("--growth", type=Path, nargs=2, metavar=("SMALL.json", "LARGE.json"),
                        help="print how each figure grew between two saved runs, and exit")
    args = parser.parse_args(argv)
    if args.growth:
        small, large = (json.loads(p.read_text(encoding="utf-8")) for p in args.growth)
        print(growth_table(small, large))
        return 0
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    if args.scale < 1:
        parser.error(f"--scale must be at least 1, got {args.scale}")
    if args.index_dir and args.index_dir.exists() and any(args.index_dir.iterdir()):
        parser.error(f"--index-dir {args.index_dir} is not empty; ingest from scratch needs an empty folder")

    with tempfile.TemporaryDirectory(prefix="policybot-bench-") as tmp:
        corpus = ROOT / "corpus" if args.scale == 1 else synthetic_corpus(Path(tmp) / "corpus", args.scale)
        index_dir = (args.index_dir or Path(tmp) / "index").resolve()
        figures = bench(index_dir, args.queries, args.runs, corpus, args.scale)
    m = figures["machine"]
    print(f"PolicyBot bench, {m['date']}: {m['nproc']} CPUs ({m['cpu']}), Python {m['python']}", end="")
    print(f", load {m['load_1min']:.1f} at start\n")
    print(table(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
