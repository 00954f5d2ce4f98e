"""Is `/ask` through Gradio slower than it was? The headline way of eval/bench_web.py (gradio_client on
/api/, 20 users × 5 rounds of simultaneous asks, each a question no earlier call asked) run alternately on
this checkout and on another one (an older commit), each app with its own index, on the same machine.

A figure from another day says little: this machine's speed drifts by a fifth within an hour, and every
figure here is CPU on two cores. Pairs run one after the other, in alternating order (then, now, now,
then, ...), so a drift weighs on both sides alike.

    git worktree add /tmp/policybot-then <commit>
    python eval/ab_web.py --then /tmp/policybot-then [--pairs 4] [--json FILE]

The other checkout's index is built by its own `python -m bot.cli ingest` into a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import bench_web as bw
import webload as wl

NOW = Path(__file__).resolve().parent.parent


def run(root: Path, index_dir: Path, asked: list[str], users: int, rounds: int, log: Path, timeout: float) -> dict:
    """One app from `root`, two warm-up rounds, then the measured rounds."""
    wl.ROOT = root  # start_app and app_env run `root`'s app.py with `root` first on the path
    env = wl.app_env(index_dir, POLICYBOT_QUERY_CACHE="0", POLICYBOT_RATE_LIMIT_KEY="session",
                     POLICYBOT_RATE_LIMIT_SESSIONS_PER_HOST="1000")
    port = wl.free_port()
    url = f"http://127.0.0.1:{port}/"
    with open(log, "wb") as out:
        proc = wl.start_app(port, env, out)
        try:
            wl.wait_http(url, proc, timeout)
            warm = asked[users * rounds: users * (rounds + 2)]
            bw.threaded_rounds(url + "api/", proc.pid, warm, users, 2, wl.client)
            figures = bw.threaded_rounds(url + "api/", proc.pid, asked[:users * rounds], users, rounds, wl.client)
        finally:
            wl.stop(proc)
    figures.pop("results")
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--then", type=Path, required=True, help="the other checkout (a git worktree of an older commit)")
    parser.add_argument("--pairs", type=int, default=4, help="runs of each checkout (default 4)")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=240.0)
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if not (args.then / "app.py").exists():
        parser.error(f"--then {args.then}: no app.py there (a checkout of this repository is expected)")
    asked = list(dict.fromkeys(wl.questions(wl.QUESTIONS)))
    index_now, built = wl.ensure_index(None)
    with tempfile.TemporaryDirectory(prefix="policybot-ab-") as tmp:
        index_then = Path(tmp) / "index-then"
        env = {**os.environ, "POLICYBOT_INDEX_DIR": str(index_then), "PYTHONPATH": str(args.then)}
        env.pop("POLICYBOT_CHROMA_URL", None)
        subprocess.run([sys.executable, "-m", "bot.cli", "ingest", "--quiet", "corpus"], cwd=args.then, env=env,
                       check=True, stdout=subprocess.DEVNULL)
        sides = {"then": (args.then.resolve(), index_then), "now": (NOW, index_now)}
        order = [("then", "now") if i % 2 == 0 else ("now", "then") for i in range(args.pairs)]
        runs: dict[str, list[dict]] = {"then": [], "now": []}
        load_start = os.getloadavg()[0]
        for pair in order:
            for side in pair:
                root, index_dir = sides[side]
                figures = run(root, index_dir, asked, args.users, args.rounds, Path(tmp) / f"{side}.log", args.timeout)
                runs[side].append(figures)
                print(f"{side}: p50 / p95 {figures['p50_ms']:.0f} / {figures['p95_ms']:.0f} ms, "
                      f"app CPU {figures['app_cpu_ms_per_call']:.1f} ms a call, errors {figures['errors']} "
                      f"({time.strftime('%H:%M:%S')})", flush=True)
    if built:
        built.cleanup()
    summary = {side: {"p95_ms": [round(f["p95_ms"]) for f in fs],
                      "median_p95_ms": statistics.median(f["p95_ms"] for f in fs),
                      "app_cpu_ms_per_call": [round(f["app_cpu_ms_per_call"], 1) for f in fs]}
               for side, fs in runs.items()}
    print(f"\nload average {load_start:.1f} at start, {os.getloadavg()[0]:.1f} at the end")
    for side, s in summary.items():
        print(f"{side}: p95 {s['p95_ms']} ms (median {s['median_p95_ms']:.0f}), app CPU a call {s['app_cpu_ms_per_call']} ms")
    for line in [x for fs in runs.values() for f in fs for x in f["error_examples"]]:
        print("  ", line)
    if args.json:
        args.json.write_text(json.dumps({"then": str(args.then), "summary": summary, "runs": runs},
                                        ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 1 if any(f["errors"] for fs in runs.values() for f in fs) else 0


if __name__ == "__main__":
    sys.exit(main())
