"""Web app figures for the README: startup time and /ask latency under 20 concurrent callers.

Startup: launch `python app.py --port P` on an already-built index and time until it answers HTTP
on the port, and until a first /ask through gradio_client returns an answer (the index is loaded
while the app is built, before it answers HTTP). Repeated --starts times; median and max reported.

Load: one app process; --users threads, each one gradio_client Client (a user's session), send
/ask at the same moment (a barrier), --rounds times, each a different question from the question
set. Every answer is checked: the same answer and citations (clause id, path, quote) the question
got alone before the load, each quote an exact substring of its clause in the index. The app runs
with POLICYBOT_RATE_LIMIT_KEY=session and the default per-client limit: 20 real users have 20
addresses, while here they all share 127.0.0.1, so the limit is counted per session (each user
sends --rounds requests, within the default burst of 10).

The same rounds are then sent again by a lean client (webload.LeanClient: Gradio's queue protocol
over one asyncio HTTP client) with the same checks. gradio_client spends more CPU per call than the
app does; on a 2-core machine that runs both, the first figure is mostly the load generator's.

    python eval/bench_web.py [--index-dir DIR] [--starts 3] [--users 20] [--rounds 5] [--json FILE]

Without --index-dir: POLICYBOT_INDEX_DIR or index/ when built, else one is built in a temp dir
first (not timed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import webload as wl
from bot.evaluate import percentile

PROBE = "科技成果转化项目最多能拿多少支持？"


def startup(index_dir: Path, log_dir: Path, timeout: float) -> tuple[float, float, float]:
    """Seconds from launch until HTTP answers, until the first /ask has answered, and the app's CPU
    seconds by then."""
    port = wl.free_port()
    url = f"http://127.0.0.1:{port}/"
    with open(log_dir / f"start-{port}.log", "wb") as log:
        started = time.perf_counter()
        proc = wl.start_app(port, wl.app_env(index_dir), log)
        try:
            wl.wait_http(url, proc, timeout)
            http_s = time.perf_counter() - started
            result = wl.client(url).predict(PROBE, api_name="/ask")
            ask_s = time.perf_counter() - started
            cpu = wl.cpu_s(proc.pid)
            if not result["citations"]:
                raise RuntimeError(f"startup probe got an answer without citations: {result['answer'][:80]}")
            return http_s, ask_s, cpu
        finally:
            wl.stop(proc)


def load(url: str, pid: int, questions: list[str], texts: dict[str, str], users: int, rounds: int) -> dict:
    """`users` threads × `rounds` simultaneous /ask calls; latencies, errors and wrong answers."""
    # Each question alone first (also warms the app up), one session each: a session's burst is 10.
    reference = {q: wl.client(url).predict(q, api_name="/ask") for q in questions}
    clients = [wl.client(url) for _ in range(users)]
    tally = wl.Tally()
    wrong: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(users)

    def user(n: int) -> None:
        for r in range(rounds):
            question = questions[(n + r * users) % len(questions)]
            barrier.wait()
            started = time.perf_counter()
            try:
                result = clients[n].predict(question, api_name="/ask")
            except Exception as exc:  # any failure is a figure here, not a crash
                with lock:
                    tally.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            ms = (time.perf_counter() - started) * 1000
            problems = wl.answer_problems(result, reference[question], texts)
            with lock:
                tally.ms.append(ms)
                wrong.extend(f"{question[:20]}…: {p}" for p in problems)

    started, cpu, own = time.perf_counter(), wl.cpu_s(pid), time.process_time()
    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall, cpu, own = time.perf_counter() - started, wl.cpu_s(pid) - cpu, time.process_time() - own
    calls = max(1, len(tally.ms) + len(tally.errors))
    figures = {"app_cpu_ms_per_call": cpu * 1000 / calls, "client_cpu_ms_per_call": own * 1000 / calls, **tally.figures(),
               "wrong": len(wrong), "wrong_examples": wrong[:5], "error_examples": tally.errors[:5],
               "throughput_per_s": len(tally.ms) / wall, "questions": len(questions)}
    figures["lean"] = lean_load(url, pid, questions, reference, texts, users, rounds)
    return figures


def lean_load(url: str, pid: int, questions: list[str], reference: dict, texts: dict[str, str], users: int,
              rounds: int) -> dict:
    """The same rounds through wl.LeanClient (one asyncio task per user, its own session): what the app
    takes when the load generator does not eat the app's two cores."""
    import asyncio
    import uuid

    import httpx

    lean = wl.LeanClient(url)
    tally = wl.Tally()
    wrong: list[str] = []
    first: list[float] = []  # each user's first call: Gradio sets up the session's state (~8 ms of CPU here)
    later: list[float] = []

    async def run() -> None:
        sessions = [uuid.uuid4().hex for _ in range(users)]
        async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=4 * users)) as http:

            async def user(n: int, r: int) -> None:
                question = questions[(n + r * users) % len(questions)]
                started = time.perf_counter()
                try:
                    result = await lean.call(http, sessions[n], "ask", question)
                except Exception as exc:  # any failure is a figure here, not a crash
                    tally.errors.append(f"{type(exc).__name__}: {exc}")
                    return
                tally.ms.append((time.perf_counter() - started) * 1000)
                (first if r == 0 else later).append(tally.ms[-1])
                wrong.extend(f"{question[:20]}…: {p}" for p in wl.answer_problems(result, reference[question], texts))

            for r in range(rounds):
                await asyncio.gather(*(user(n, r) for n in range(users)))

    cpu, own = wl.cpu_s(pid), time.process_time()
    asyncio.run(run())
    calls = max(1, len(tally.ms) + len(tally.errors))
    return {"app_cpu_ms_per_call": (wl.cpu_s(pid) - cpu) * 1000 / calls,
            "client_cpu_ms_per_call": (time.process_time() - own) * 1000 / calls, **tally.figures(),
            "wrong": len(wrong), "error_examples": tally.errors[:5], "wrong_examples": wrong[:5],
            "first_round_p95_ms": percentile(first, 95), "later_rounds_p95_ms": percentile(later, 95)}


def table(f: dict) -> str:
    s, lo = f["startup"], f["load"]
    le = lo["lean"]
    rows = [
        (f"app start → HTTP answers (median / max of {s['runs']})", f"{s['http_median_s']:.1f} / {s['http_max_s']:.1f} s", ""),
        (f"app start → first /ask answered (median / max of {s['runs']})",
         f"{s['ask_median_s']:.1f} / {s['ask_max_s']:.1f} s", "≤ 8 s"),
        (f"/ask under {f['users']} concurrent users, p50 / p95 / max ({lo['calls']} calls)",
         f"{lo['p50_ms']:.0f} / {lo['p95_ms']:.0f} / {lo['max_ms']:.0f} ms", "p95 ≤ 500 ms"),
        ("the same, sent by a lean client speaking Gradio's queue protocol (p50 / p95 / max)",
         f"{le['p50_ms']:.0f} / {le['p95_ms']:.0f} / {le['max_ms']:.0f} ms", "p95 ≤ 500 ms"),
        ("of which: p95 of the first round (new sessions) / of the later rounds",
         f"{le['first_round_p95_ms']:.0f} / {le['later_rounds_p95_ms']:.0f} ms", ""),
        ("app CPU time until the first answer (median)", f"{s['cpu_median_s']:.1f} s", ""),
        ("CPU per /ask under load: app (all threads) / gradio_client callers / lean caller",
         f"{lo['app_cpu_ms_per_call']:.0f} / {lo['client_cpu_ms_per_call']:.0f} / {le['client_cpu_ms_per_call']:.0f} ms", ""),
        ("errors / wrong answers or citations under load (gradio_client, lean)",
         f"{lo['errors']} / {lo['wrong']}, {le['errors']} / {le['wrong']}", "0 / 0"),
        ("throughput under load", f"{lo['throughput_per_s']:.1f} answers/s", ""),
    ]
    lines = ["| figure | value | target |", "| --- | --- | --- |"]
    return "\n".join(lines + [f"| {a} | {b} | {c} |" for a, b, c in rows])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, help="a built index (default: POLICYBOT_INDEX_DIR or index/)")
    parser.add_argument("--starts", type=int, default=3, help="startup runs (default 3)")
    parser.add_argument("--users", type=int, default=20, help="concurrent callers (default 20)")
    parser.add_argument("--rounds", type=int, default=5, help="simultaneous calls per caller (default 5)")
    parser.add_argument("--questions", type=Path, default=wl.QUESTIONS, help="JSONL question set")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the app (default 120)")
    parser.add_argument("--json", type=Path, help="also write all figures to this JSON file")
    args = parser.parse_args(argv)
    if min(args.starts, args.users, args.rounds) < 1:
        parser.error("--starts, --users and --rounds must be at least 1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

    index_dir, built = wl.ensure_index(args.index_dir)
    figures: dict = {"users": args.users, "rounds": args.rounds, "load_1min_at_start": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="policybot-bench-web-") as logs:
        walls = [startup(index_dir, Path(logs), args.timeout) for _ in range(args.starts)]
        http, ask, cpu = (sorted(w[i] for w in walls) for i in range(3))
        figures["startup"] = {"runs": args.starts, "http_median_s": http[len(http) // 2], "http_max_s": http[-1],
                              "ask_median_s": ask[len(ask) // 2], "ask_max_s": ask[-1],
                              "cpu_median_s": cpu[len(cpu) // 2]}

        port = wl.free_port()
        url = f"http://127.0.0.1:{port}/"
        env = wl.app_env(index_dir, POLICYBOT_RATE_LIMIT_KEY="session")
        with open(Path(logs) / "load.log", "wb") as log:
            proc = wl.start_app(port, env, log)
            try:
                wl.wait_http(url, proc, args.timeout)
                figures["load"] = load(url, proc.pid, wl.questions(args.questions, args.users), wl.clause_texts(index_dir),
                                       args.users, args.rounds)
            finally:
                wl.stop(proc)
    if built:
        built.cleanup()

    figures["load_1min_at_end"] = os.getloadavg()[0]
    print(f"PolicyBot web bench, {os.cpu_count()} CPUs, load average {figures['load_1min_at_start']:.1f} at start, "
          f"{figures['load_1min_at_end']:.1f} at the end (other work on the machine inflates wall times)\n")
    print(table(figures))
    lo, le = figures["load"], figures["load"]["lean"]
    for line in lo["error_examples"] + lo["wrong_examples"] + le["error_examples"] + le["wrong_examples"]:
        print("  ", line)
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 1 if lo["errors"] or lo["wrong"] or le["errors"] or le["wrong"] else 0


if __name__ == "__main__":
    sys.exit(main())
