"""A bounded soak of the web app: sustained /ask, /search and /match traffic for a few minutes.

Starts one `python app.py` on 127.0.0.1 (loopback only) over a built index, then runs threads
that call the three endpoints back to back through gradio_client, each thread a user session that
is replaced by a new one every --session-calls calls (as visitors come and go). Every result is
checked against the result the same input got before the soak (answers and citations, hit clause
ids, verdicts). Reports errors, p95 per endpoint, and the app's RSS (VmRSS from /proc) after
warm-up, at the end and at peak. Exit status 1 when any call failed or came back different.

The per-client rate limit stays on, counted per session and set high (POLICYBOT_RATE_LIMIT=100000):
the soak is about leaks and errors, and its callers all share 127.0.0.1.

    python eval/soak.py [--minutes 2] [--index-dir DIR] [--ask 3] [--search 2] [--match 1] [--json FILE]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import webload as wl

SEARCHES = ["研发费用加计扣除", "（八）", "第九十五条", "人才用房", "科技型中小企业", "高新技术企业认定", "知识产权质押", "上市培育"]


def profiles() -> list[str]:
    """The sample enterprise profiles of eval/profiles, as the JSON strings /match takes."""
    import yaml

    out = []
    for path in sorted((wl.ROOT / "eval" / "profiles").iterdir()):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        out.append(json.dumps(data, ensure_ascii=False, default=str))
    return out


def search_key(result: dict) -> tuple:
    return tuple(h["clause_id"] for h in result["hits"])


def match_key(result: dict) -> tuple:
    return tuple((v["rule_id"], v["status"]) for v in result["verdicts"])


class Soak:
    def __init__(self, url: str, texts: dict[str, str], session_calls: int) -> None:
        self.url = url
        self.texts = texts
        self.session_calls = session_calls
        self.tallies = {name: wl.Tally() for name in ("ask", "search", "match")}
        self.wrong: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.sessions = 0
        self.client_races = 0
        self.inputs = {"ask": wl.questions(n=30), "search": SEARCHES, "match": profiles()}
        solo = wl.client(url)
        self.reference = {
            "ask": {q: solo.predict(q, api_name="/ask") for q in self.inputs["ask"]},
            "search": {q: search_key(solo.predict(q, 5, api_name="/search")) for q in SEARCHES},
            "match": {p: match_key(solo.predict(p, api_name="/match")) for p in self.inputs["match"]},
        }

    def call(self, client, endpoint: str, item: str) -> list[str]:
        """One call; the reasons its result is wrong (empty when right)."""
        if endpoint == "ask":
            return wl.answer_problems(client.predict(item, api_name="/ask"), self.reference["ask"][item], self.texts)
        if endpoint == "search":
            result = client.predict(item, 5, api_name="/search")
            bad = [h["clause_id"] for h in result["hits"] if h["clause_id"] not in self.texts]
            same = search_key(result) == self.reference["search"][item]
            return [f"unknown clause {c}" for c in bad] + ([] if same else ["hits differ from the solo search"])
        result = client.predict(item, api_name="/match")
        return [] if match_key(result) == self.reference["match"][item] else ["verdicts differ from the solo match"]

    def worker(self, endpoint: str, offset: int) -> None:
        items, tally = self.inputs[endpoint], self.tallies[endpoint]
        n, client = offset, None
        while not self.stop.is_set():
            if client is None or n % self.session_calls == 0:
                client = wl.client(self.url)
                with self.lock:
                    self.sessions += 1
            item = items[n % len(items)]
            n += 1
            started = time.perf_counter()
            try:
                problems = self.call(client, endpoint, item)
            except concurrent.futures.CancelledError:
                # gradio_client's own race, not the app's: its event-stream reader takes the server's
                # end-of-stream, sent as this session's last event completed, for the end of the next
                # event too when that one joined in between. Counted apart; the next call opens a session.
                with self.lock:
                    self.client_races += 1
                client = None
                continue
            except Exception as exc:  # every failure is counted and shown, not raised
                with self.lock:
                    tally.errors.append(f"{type(exc).__name__}: {str(exc)[:120]}")
                continue
            ms = (time.perf_counter() - started) * 1000
            with self.lock:
                tally.ms.append(ms)
                self.wrong.extend(f"{endpoint} {str(item)[:20]}…: {p}" for p in problems)


def soak(index_dir: Path, minutes: float, threads: dict[str, int], session_calls: int, logs: Path,
         timeout: float, progress: Callable[[str], None]) -> dict:
    port = wl.free_port()
    url = f"http://127.0.0.1:{port}/"
    env = wl.app_env(index_dir, POLICYBOT_RATE_LIMIT="100000", POLICYBOT_RATE_LIMIT_BURST="1000",
                     POLICYBOT_RATE_LIMIT_KEY="session")
    with open(logs / "app.log", "wb") as log:
        proc = wl.start_app(port, env, log)
        try:
            wl.wait_http(url, proc, timeout)
            run = Soak(url, wl.clause_texts(index_dir), session_calls)
            rss_start = peak = wl.rss_mb(proc.pid)
            workers = [threading.Thread(target=run.worker, args=(endpoint, i * 7))
                       for endpoint, count in threads.items() for i in range(count)]
            started = time.monotonic()
            for t in workers:
                t.start()
            while (elapsed := time.monotonic() - started) < minutes * 60:
                time.sleep(min(5.0, minutes * 60 - elapsed))
                peak = max(peak, wl.rss_mb(proc.pid))
                calls = sum(len(t.ms) + len(t.errors) for t in run.tallies.values())
                progress(f"{elapsed:5.0f} s  {calls} calls  RSS {wl.rss_mb(proc.pid):.0f} MB")
            run.stop.set()
            for t in workers:
                t.join()
            wall = time.monotonic() - started
            rss_end = wl.rss_mb(proc.pid)
            alive = proc.poll() is None
        finally:
            wl.stop(proc)
    figures = {name: tally.figures() for name, tally in run.tallies.items()}
    errors = [e for t in run.tallies.values() for e in t.errors]
    return {
        "minutes": minutes, "wall_s": wall, "threads": threads, "sessions": run.sessions,
        "client_races": run.client_races,
        "endpoints": figures, "calls": sum(f["calls"] for f in figures.values()),
        "errors": len(errors), "wrong": len(run.wrong), "error_examples": errors[:5], "wrong_examples": run.wrong[:5],
        "rss_start_mb": rss_start, "rss_end_mb": rss_end, "rss_peak_mb": max(peak, rss_end),
        "rss_growth_mb": rss_end - rss_start, "app_alive_at_end": alive,
    }


def table(f: dict) -> str:
    lines = ["| endpoint | calls | errors | p50 | p95 | max |", "| --- | --- | --- | --- | --- | --- |"]
    for name, e in f["endpoints"].items():
        lines.append(f"| /{name} | {e['calls']} | {e['errors']} | {e['p50_ms']:.0f} ms | {e['p95_ms']:.0f} ms "
                     f"| {e['max_ms']:.0f} ms |")
    lines += ["", f"calls {f['calls']} in {f['wall_s']:.0f} s over {f['sessions']} sessions; errors {f['errors']}, "
              f"wrong results {f['wrong']}; calls gradio_client itself cancelled (its stream race) {f['client_races']}",
              f"app RSS: {f['rss_start_mb']:.0f} MB after warm-up, {f['rss_end_mb']:.0f} MB at the end "
              f"(growth {f['rss_growth_mb']:+.0f} MB), peak {f['rss_peak_mb']:.0f} MB"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=2.0, help="how long to keep the load on (default 2)")
    parser.add_argument("--index-dir", type=Path, help="a built index (default: POLICYBOT_INDEX_DIR or index/)")
    parser.add_argument("--ask", type=int, default=3, help="threads calling /ask (default 3)")
    parser.add_argument("--search", type=int, default=2, help="threads calling /search (default 2)")
    parser.add_argument("--match", type=int, default=1, help="threads calling /match (default 1)")
    parser.add_argument("--session-calls", type=int, default=50, help="calls per client session (default 50)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the app (default 120)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--json", type=Path, help="also write all figures to this JSON file")
    args = parser.parse_args(argv)
    threads = {"ask": args.ask, "search": args.search, "match": args.match}
    if args.minutes <= 0 or min(threads.values()) < 0 or sum(threads.values()) < 1 or args.session_calls < 1:
        parser.error("--minutes must be positive, thread counts non-negative (at least one thread), --session-calls ≥ 1")

    index_dir, built = wl.ensure_index(args.index_dir)
    progress = (lambda _line: None) if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    with tempfile.TemporaryDirectory(prefix="policybot-soak-") as logs:
        figures = soak(index_dir, args.minutes, threads, args.session_calls, Path(logs), args.timeout, progress)
    if built:
        built.cleanup()
    figures["date"] = datetime.date.today().isoformat()
    figures["load_1min_at_end"] = os.getloadavg()[0]
    print(f"PolicyBot soak, {figures['date']}: {args.minutes:g} min, {os.cpu_count()} CPUs, "
          f"load {figures['load_1min_at_end']:.1f} at the end\n")
    print(table(figures))
    for line in figures["error_examples"] + figures["wrong_examples"]:
        print("  ", line)
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 1 if figures["errors"] or figures["wrong"] or not figures["app_alive_at_end"] else 0


if __name__ == "__main__":
    sys.exit(main())
