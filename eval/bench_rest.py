"""REST `/v1/ask` under many simultaneous callers: one replica, and two replicas sharing one Chroma server.

Each layout: the app processes start (`python app.py`, default settings but the query-embedding cache
off, so every call pays for its embedding; one API key per caller), two warm-up rounds of other
questions, then for each caller count (default 20 and 50) `--rounds` rounds in which every caller sends
one question at the same moment, a question no earlier call asked. With two replicas caller n talks to
replica n mod 2, as a round-robin load balancer would send them; the replicas start with empty index
folders and serve the generation the first one built on a `chroma run` server on 127.0.0.1.

Every answer is checked: the same answer and citations the question gets alone, each quote an exact
substring of its clause. First, as the floor under any server on this machine, the same numbers of
query embeddings at once in this process, with nothing else. Reported per layout and caller count: p50/p95/max, errors, wrong answers, CPU
per call of the app processes (and of the Chroma server) and of the load generator, and peak RSS.

    python eval/bench_rest.py [--users 20 50] [--rounds 3] [--json FILE]

The load generator shares the machine: run it on a quiet one (the load average is reported).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

import webload as wl

ROOT = Path(__file__).resolve().parent.parent
SETS = [ROOT / "eval" / "questions.jsonl", *sorted((ROOT / "eval" / "blind").glob("*.jsonl"))]


def api_key(n: int) -> str:
    return f"bench-caller-{n:04d}"


def all_questions() -> list[str]:
    """Every distinct question (first turns) of the development and blind sets."""
    return list(dict.fromkeys(q for path in SETS for q in wl.questions(path)))


@contextmanager
def replicas(count: int, work: Path, keys: int, timeout: float):
    """`count` app processes (URLs and pids); with two or more, on one `chroma run` server."""
    with ExitStack() as stack:
        # A caller's key asks about a dozen times in a minute here (warm-up, rounds, alone): the rate
        # limit is not what is measured, so its burst is widened.
        extra = {"POLICYBOT_QUERY_CACHE": "0", "POLICYBOT_RATE_LIMIT_API_BURST": "1000",
                 "POLICYBOT_API_KEYS": ",".join(api_key(n) for n in range(keys))}
        procs = []
        if count > 1:
            chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
            port = wl.free_port()
            log = stack.enter_context(open(work / "chroma.log", "wb"))
            server = subprocess.Popen([chroma, "run", "--path", str(work / "chroma"), "--host", "127.0.0.1",
                                       "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
            stack.callback(wl.stop, server)
            procs.append(server)
            extra["POLICYBOT_CHROMA_URL"] = f"http://127.0.0.1:{port}"
            wl.wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", server, timeout)
        urls, pids = [], []
        for n in range(count):
            port = wl.free_port()
            index = work / f"index-{n}"  # empty: built (embedded store) or taken from the server
            log = stack.enter_context(open(work / f"app-{n}.log", "wb"))
            env = wl.app_env(index, **extra)
            if "POLICYBOT_CHROMA_URL" in extra:
                env["POLICYBOT_CHROMA_URL"] = extra["POLICYBOT_CHROMA_URL"]
            proc = wl.start_app(port, env, log)
            stack.callback(wl.stop, proc)
            urls.append(f"http://127.0.0.1:{port}")
            wl.wait_http(urls[-1] + "/", proc, timeout)  # one after another: the first builds the generation
            pids.append(proc.pid)
        yield urls, pids, [p.pid for p in procs]


async def rounds(urls: list[str], questions: list[str], users: int, count: int) -> tuple[wl.Tally, list]:
    """`count` rounds of `users` simultaneous asks; caller n asks replica n mod len(urls)."""
    tally, results = wl.Tally(), []
    limits = httpx.Limits(max_connections=4 * users)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:

        async def ask(n: int, question: str) -> None:
            started = time.perf_counter()
            try:
                reply = await http.post(urls[n % len(urls)] + "/v1/ask", json={"question": question},
                                        headers={"Authorization": f"Bearer {api_key(n)}"})
                reply.raise_for_status()
            except Exception as exc:  # a failure is a figure here
                tally.errors.append(f"{type(exc).__name__}: {exc}")
                return
            tally.ms.append((time.perf_counter() - started) * 1000)
            results.append((question, reply.json()))

        for r in range(count):
            await asyncio.gather(*(ask(n, questions[r * users + n]) for n in range(users)))
    return tally, results


def layout(count: int, users_list: Sequence[int], n_rounds: int, asked: list[str], texts: dict[str, str],
           timeout: float) -> dict:
    out = {}
    with tempfile.TemporaryDirectory(prefix="policybot-bench-rest-") as tmp, \
            replicas(count, Path(tmp), max(users_list), timeout) as (urls, pids, servers):
        warm = asked[-2 * max(users_list):]
        asyncio.run(rounds(urls, warm, max(users_list), 2))
        start = 0
        for users in users_list:
            questions = asked[start:start + users * n_rounds]
            start += users * n_rounds
            cpu = [wl.cpu_s(p) for p in pids + servers]
            own = time.process_time()
            began = time.perf_counter()
            tally, results = asyncio.run(rounds(urls, questions, users, n_rounds))
            wall = time.perf_counter() - began
            used = [wl.cpu_s(p) - c for p, c in zip(pids + servers, cpu)]
            calls = max(1, len(tally.ms) + len(tally.errors))
            # Each question alone, on the replica that answered it under load.
            alone = asyncio.run(_alone(urls, questions, users))
            wrong = [f"{q[:20]}…: {p}" for q, r in results for p in wl.answer_problems(r, alone[q], texts)]
            out[users] = {**tally.figures(), "wrong": len(wrong), "wrong_examples": wrong[:5],
                          "error_examples": tally.errors[:5], "throughput_per_s": len(tally.ms) / wall,
                          "app_cpu_ms_per_call": sum(used[:len(pids)]) * 1000 / calls,
                          "chroma_cpu_ms_per_call": sum(used[len(pids):]) * 1000 / calls,
                          "client_cpu_ms_per_call": (time.process_time() - own) * 1000 / calls,
                          "rss_mb": [round(wl.rss_mb(p)) for p in pids + servers]}
    return out


def embedder_alone(questions: list[str], users: int, n_rounds: int) -> dict:
    """The floor under any server on this machine: `users` query embeddings at once, the app's own
    embedder in this process (one core each when crowded, as in the app), no HTTP and no answering."""
    import threading

    from bot.index.embedders import E5SmallEmbeddings

    embedder = E5SmallEmbeddings()
    embedder.embed_query(questions[-1])  # the model loaded
    tally, lock, barrier = wl.Tally(), threading.Lock(), threading.Barrier(users)

    def caller(n: int) -> None:
        for r in range(n_rounds):
            barrier.wait()
            started = time.perf_counter()
            embedder.embed_query(questions[r * users + n])
            with lock:
                tally.ms.append((time.perf_counter() - started) * 1000)

    own = time.process_time()
    threads = [threading.Thread(target=caller, args=(n,)) for n in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {**tally.figures(), "cpu_ms_per_query": (time.process_time() - own) * 1000 / max(1, len(tally.ms))}


async def _alone(urls: list[str], questions: list[str], users: int) -> dict[str, dict]:
    answers = {}
    async with httpx.AsyncClient(timeout=120) as http:
        for i, q in enumerate(questions):
            n = i % users
            reply = await http.post(urls[n % len(urls)] + "/v1/ask", json={"question": q},
                                    headers={"Authorization": f"Bearer {api_key(n)}"})
            answers[q] = reply.raise_for_status().json()
    return answers


def table(figures: dict) -> str:
    lines = ["| layout | callers | p50 / p95 / max | errors / wrong | app CPU a call (+ Chroma server) | caller CPU a call | throughput | RSS |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, runs in figures["layouts"].items():
        for users, f in runs.items():
            lines.append(f"| {name} | {users} | {f['p50_ms']:.0f} / **{f['p95_ms']:.0f}** / {f['max_ms']:.0f} ms | "
                         f"{f['errors']} / {f['wrong']} | {f['app_cpu_ms_per_call']:.0f} (+{f['chroma_cpu_ms_per_call']:.0f}) ms | "
                         f"{f['client_cpu_ms_per_call']:.0f} ms | {f['throughput_per_s']:.0f}/s | "
                         f"{' + '.join(str(r) for r in f['rss_mb'])} MB |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, nargs="+", default=[20, 50], help="simultaneous callers (default 20 50)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per caller count (default 3)")
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2], help="layouts by replica count (default 1 2)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for a process (default 180)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    asked = all_questions()
    need = sum(args.users) * args.rounds + 2 * max(args.users)
    if len(asked) < need:
        parser.error(f"{need} distinct questions needed, the sets have {len(asked)}")
    index_dir, built = wl.ensure_index(None)
    texts = wl.clause_texts(index_dir)
    figures = {"load_1min_at_start": os.getloadavg()[0], "rounds": args.rounds, "layouts": {},
               "embedder_alone": {users: embedder_alone(asked, users, args.rounds) for users in args.users}}
    for count in args.replicas:
        name = "one replica (embedded Chroma)" if count == 1 else f"{count} replicas, one `chroma run` server"
        figures["layouts"][name] = layout(count, args.users, args.rounds, asked, texts, args.timeout)
    figures["load_1min_at_end"] = os.getloadavg()[0]
    if built:
        built.cleanup()
    print(f"REST /v1/ask, {os.cpu_count()} CPUs, load average {figures['load_1min_at_start']:.1f} at start, "
          f"{figures['load_1min_at_end']:.1f} at the end; query cache off, {args.rounds} rounds per caller count\n")
    print(table(figures))
    for users, f in figures["embedder_alone"].items():
        print(f"\nThe query embedding alone, {users} at once (no HTTP, no answering: the floor on this machine): "
              f"p50 / p95 {f['p50_ms']:.0f} / {f['p95_ms']:.0f} ms, {f['cpu_ms_per_query']:.1f} ms of CPU a query")
    return wl.finish(figures, [f for runs in figures["layouts"].values() for f in runs.values()], args.json)


if __name__ == "__main__":
    sys.exit(main())
