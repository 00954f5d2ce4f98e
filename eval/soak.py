"""A bounded soak of the web app: sustained /ask, /search, /match and feedback traffic, with uploads.

Starts one `python app.py` on 127.0.0.1 (loopback only) over copies of a built index and of the
corpus, with an admin token, then runs threads that call the three endpoints back to back through
gradio_client, each thread a user session that is replaced by a new one every --session-calls calls
(as visitors come and go), and threads that ask in the chat and rate the answer (👍/👎 with a
comment, the page's own protocol: no API exposes it). Every result is checked against the result
the same input got before the soak (answers and citations, hit clause ids, verdicts); each rating
must be recorded. --uploads times during the run, an admin re-uploads a corpus file through the
文档管理 tab (same content: the index swaps to a new generation, every answer must stay the same).

Load runs --warmup seconds (with one more upload at its start) before the measured --minutes; the
app's RSS (VmRSS from /proc) is read every few seconds and reported after warm-up, over time, at the
end and at peak. Exit status 1 when any call failed or came back different.

The per-client rate limit stays on, counted per session and set high (POLICYBOT_RATE_LIMIT=100000):
the soak is about leaks and errors, and its callers all share 127.0.0.1.

    python eval/soak.py [--minutes 2] [--warmup 20] [--index-dir DIR] [--ask 3] [--search 2] [--match 1]
                        [--feedback 1] [--uploads 2] [--json FILE]
    python eval/soak.py --minutes 10 --json /tmp/soak-10.json     # the 10-minute soak of docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import datetime
import json
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import webload as wl

# Uploaded again through the 文档管理 tab, in turn, unchanged: each upload swaps the index.
UPLOADS = ["guizhou-hitech-zones-plan-2021.txt", "hitech-enterprise-recognition-measures-2016-32.txt"]
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


class Browser(wl.LeanClient):
    """What the page itself sends for a button (Gradio's queue protocol), for the UI events no API
    exposes: the chat's 👍/👎 and the 文档管理 upload. Events are found by their element's elem_id."""

    def __init__(self, url: str) -> None:
        import httpx

        super().__init__(url)
        config = httpx.get(self.url + "config", timeout=10).json()
        elem_ids = {c["id"]: c.get("props", {}).get("elem_id") for c in config["components"]}
        self.events = {(elem_ids.get(target), event): d["api_name"]
                       for d in config["dependencies"] for target, event in d["targets"]}

    def click(self, session: str, elem_id: str, *data):
        """The outputs of clicking the element, in `session` (its State values stay on the server)."""
        import httpx

        async def run():
            async with httpx.AsyncClient(timeout=300) as http:
                return await self.call(http, session, self.events[(elem_id, "click")], *data)

        return asyncio.run(run())

    def upload(self, session: str, token: str, name: str, data: bytes) -> str:
        """Upload one file in 文档管理 (which re-indexes); the summary the tab then shows."""
        import httpx

        sent = httpx.post(self.url + self.prefix + "upload", files=[("files", (name, data))], timeout=60)
        sent.raise_for_status()
        file = {"path": sent.json()[0], "orig_name": name, "meta": {"_type": "gradio.FileData"}}
        return self.click(session, "pb-admin-upload", token, [file])


class Soak:
    def __init__(self, url: str, texts: dict[str, str], session_calls: int) -> None:
        self.url = url
        self.texts = texts
        self.session_calls = session_calls
        self.tallies = {name: wl.Tally() for name in ("ask", "search", "match", "feedback", "upload")}
        self.wrong: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.sessions = 0
        self.client_races = 0
        self.ratings = 0  # recorded, by the page's account; the feedback store must hold as many
        self.browser = Browser(url)
        self.inputs = {"ask": wl.questions(n=30), "search": SEARCHES, "match": profiles(),
                       "feedback": wl.questions(n=10)}
        solo = wl.client(url)
        self.reference = {
            "ask": {q: solo.predict(q, api_name="/ask") for q in self.inputs["ask"]},
            "search": {q: search_key(solo.predict(q, 5, api_name="/search")) for q in SEARCHES},
            "match": {p: match_key(solo.predict(p, api_name="/match")) for p in self.inputs["match"]},
        }

    def session(self, endpoint: str):
        """A new visitor: a gradio_client Client, or for feedback a page session (its hash)."""
        return uuid.uuid4().hex if endpoint == "feedback" else wl.client(self.url)

    def call(self, client, endpoint: str, item: str, n: int) -> list[str]:
        """One call; the reasons its result is wrong (empty when right)."""
        if endpoint == "ask":
            return wl.answer_problems(client.predict(item, api_name="/ask"), self.reference["ask"][item], self.texts)
        if endpoint == "search":
            result = client.predict(item, 5, api_name="/search")
            bad = [h["clause_id"] for h in result["hits"] if h["clause_id"] not in self.texts]
            same = search_key(result) == self.reference["search"][item]
            return [f"unknown clause {c}" for c in bad] + ([] if same else ["hits differ from the solo search"])
        if endpoint == "feedback":  # ask in the chat, then rate the answer with a comment
            self.browser.click(client, "pb-ask", item, [], None)
            cleared = self.browser.click(client, "pb-up" if n % 2 else "pb-down", f"soak {n}", None)
            if cleared != "":  # the page clears the comment box once the rating is stored
                return [f"rating not recorded: {str(cleared)[:60]}"]
            with self.lock:
                self.ratings += 1
            return []
        result = client.predict(item, api_name="/match")
        return [] if match_key(result) == self.reference["match"][item] else ["verdicts differ from the solo match"]

    def worker(self, endpoint: str, offset: int) -> None:
        items = self.inputs[endpoint]
        n, client = offset, None
        while not self.stop.is_set():
            if client is None or n % self.session_calls == 0:
                client = self.session(endpoint)
                with self.lock:
                    self.sessions += 1
            item = items[n % len(items)]
            n += 1
            try:
                self.timed(endpoint, item, lambda: self.call(client, endpoint, item, n))
            except concurrent.futures.CancelledError:
                # gradio_client's own race, not the app's: its event-stream reader takes the server's
                # end-of-stream, sent as this session's last event completed, for the end of the next
                # event too when that one joined in between. Counted apart; the next call opens a session.
                with self.lock:
                    self.client_races += 1
                client = None

    def timed(self, endpoint: str, item: str, call: Callable[[], list[str]]) -> None:
        """Run one call, counting its time, its failure or the reasons its result is wrong."""
        tally = self.tallies[endpoint]
        started = time.perf_counter()
        try:
            problems = call()
        except concurrent.futures.CancelledError:
            raise
        except Exception as exc:  # every failure is counted and shown, not raised
            with self.lock:
                tally.errors.append(f"{endpoint}: {type(exc).__name__}: {str(exc)[:120]}")
            return
        ms = (time.perf_counter() - started) * 1000
        with self.lock:
            tally.ms.append(ms)
            self.wrong.extend(f"{endpoint} {str(item)[:20]}…: {p}" for p in problems)

    def upload(self, token: str, corpus: Path, name: str) -> None:
        """An admin uploads a corpus file again, unchanged, in 文档管理: the index swaps to a new generation."""
        def call() -> list[str]:
            summary = self.browser.upload(uuid.uuid4().hex, token, name, (corpus / name).read_bytes())
            return [] if f"✓ **{name}**：已导入" in summary else [f"upload not indexed: {summary[:80]}"]

        self.timed("upload", name, call)


def soak(index_dir: Path, minutes: float, warmup: float, threads: dict[str, int], uploads: int, session_calls: int,
         work: Path, timeout: float, progress: Callable[[str], None]) -> dict:
    """Run the soak in `work` (a scratch folder: copies of the index and corpus, the app's data and log)."""
    from bot.web.feedback import FeedbackStore

    port = wl.free_port()
    url = f"http://127.0.0.1:{port}/"
    token = secrets.token_urlsafe(16)
    shutil.copytree(index_dir, work / "index")  # uploads swap generations in it: never the caller's
    shutil.copytree(wl.ROOT / "corpus", work / "corpus")
    env = wl.app_env(work / "index", POLICYBOT_RATE_LIMIT="100000", POLICYBOT_RATE_LIMIT_BURST="1000",
                     POLICYBOT_RATE_LIMIT_KEY="session", POLICYBOT_ADMIN_TOKEN=token,
                     POLICYBOT_CORPUS_DIR=str(work / "corpus"), POLICYBOT_DATA_DIR=str(work / "data"))
    rss: list[tuple[float, float]] = []  # (seconds since warm-up ended, MB)
    with open(work / "app.log", "wb") as log:
        proc = wl.start_app(port, env, log)
        try:
            wl.wait_http(url, proc, timeout)
            run = Soak(url, wl.clause_texts(index_dir), session_calls)
            workers = [threading.Thread(target=run.worker, args=(endpoint, i * 7))
                       for endpoint, count in threads.items() for i in range(count)]
            begun = time.monotonic()
            for t in workers:
                t.start()
            end = warmup + minutes * 60
            # One upload in the warm-up too: a process's first ingest loads its code and buffers once.
            upload_at = [(warmup + minutes * 60 * k / (uploads + 1) if k else 0.0, UPLOADS[k % len(UPLOADS)])
                         for k in range(uploads + 1 if uploads else 0)]
            while (elapsed := time.monotonic() - begun) < end:
                if upload_at and elapsed >= upload_at[0][0]:
                    run.upload(token, work / "corpus", upload_at.pop(0)[1])
                    continue
                time.sleep(max(0.0, min(5.0, end - elapsed, *(at - elapsed for at, _ in upload_at[:1]))))
                elapsed = time.monotonic() - begun
                if elapsed >= warmup:
                    rss.append((elapsed - warmup, wl.rss_mb(proc.pid)))
                calls = sum(len(t.ms) + len(t.errors) for t in run.tallies.values())
                stage = "warm-up" if elapsed < warmup else "soak"
                progress(f"{elapsed:5.0f} s {stage}  {calls} calls  RSS {wl.rss_mb(proc.pid):.0f} MB")
            run.stop.set()
            for t in workers:
                t.join()
            wall = time.monotonic() - begun
            rss_end = wl.rss_mb(proc.pid)
            alive = proc.poll() is None
        finally:
            wl.stop(proc)
    stored = len(FeedbackStore.in_dir(work / "data").all())
    if stored != run.ratings:
        run.wrong.append(f"feedback store holds {stored} ratings, the page recorded {run.ratings}")
    figures = {name: tally.figures() for name, tally in run.tallies.items()}
    errors = [e for t in run.tallies.values() for e in t.errors]
    rss_start = rss[0][1] if rss else rss_end
    return {
        "minutes": minutes, "warmup_s": warmup, "wall_s": wall, "threads": threads, "sessions": run.sessions,
        "client_races": run.client_races, "uploads": uploads, "ratings_stored": stored,
        "endpoints": figures, "calls": sum(f["calls"] for f in figures.values()),
        "errors": len(errors), "wrong": len(run.wrong), "error_examples": errors[:5], "wrong_examples": run.wrong[:5],
        "rss_start_mb": rss_start, "rss_end_mb": rss_end, "rss_peak_mb": max([mb for _, mb in rss] + [rss_end]),
        "rss_growth_mb": rss_end - rss_start, "rss_mb_over_time": [[round(t), round(mb, 1)] for t, mb in rss],
        "app_alive_at_end": alive,
    }


LABELS = {"feedback": "chat + 👍/👎 (page)", "upload": "文档管理 upload (page)"}


def table(f: dict) -> str:
    lines = ["| call | calls | errors | p50 | p95 | max |", "| --- | --- | --- | --- | --- | --- |"]
    for name, e in f["endpoints"].items():
        lines.append(f"| {LABELS.get(name, '/' + name)} | {e['calls']} | {e['errors']} | {e['p50_ms']:.0f} ms "
                     f"| {e['p95_ms']:.0f} ms | {e['max_ms']:.0f} ms |")
    series = f["rss_mb_over_time"]
    shown = series[:: max(1, len(series) // 10)]
    shown += series[-1:] if series and shown[-1] != series[-1] else []
    lines += ["", f"calls {f['calls']} in {f['wall_s']:.0f} s ({f['warmup_s']:.0f} s warm-up) over {f['sessions']} "
              f"sessions; errors {f['errors']}, wrong results {f['wrong']}; ratings stored {f['ratings_stored']}; "
              f"calls gradio_client itself cancelled (its stream race) {f['client_races']}",
              f"app RSS: {f['rss_start_mb']:.0f} MB after warm-up, {f['rss_end_mb']:.0f} MB at the end "
              f"(growth {f['rss_growth_mb']:+.0f} MB), peak {f['rss_peak_mb']:.0f} MB",
              "RSS over time: " + ", ".join(f"{t} s {mb:.0f} MB" for t, mb in shown)]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=2.0, help="how long to keep the load on (default 2)")
    parser.add_argument("--index-dir", type=Path, help="a built index (default: POLICYBOT_INDEX_DIR or index/)")
    parser.add_argument("--ask", type=int, default=3, help="threads calling /ask (default 3)")
    parser.add_argument("--search", type=int, default=2, help="threads calling /search (default 2)")
    parser.add_argument("--match", type=int, default=1, help="threads calling /match (default 1)")
    parser.add_argument("--feedback", type=int, default=1, help="threads asking in the chat and rating (default 1)")
    parser.add_argument("--uploads", type=int, default=2, help="admin uploads in the measured run (default 2; one more in the warm-up)")
    parser.add_argument("--warmup", type=float, default=20.0, help="seconds of load before RSS is first read (default 20)")
    parser.add_argument("--session-calls", type=int, default=50, help="calls per client session (default 50)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the app (default 120)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--json", type=Path, help="also write all figures to this JSON file")
    args = parser.parse_args(argv)
    threads = {"ask": args.ask, "search": args.search, "match": args.match, "feedback": args.feedback}
    if (args.minutes <= 0 or min(threads.values()) < 0 or sum(threads.values()) < 1 or args.session_calls < 1
            or args.uploads < 0 or args.warmup < 0):
        parser.error("--minutes must be positive, thread counts non-negative (at least one thread), --session-calls ≥ 1, "
                     "--uploads and --warmup non-negative")

    index_dir, built = wl.ensure_index(args.index_dir)
    progress = (lambda _line: None) if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    with tempfile.TemporaryDirectory(prefix="policybot-soak-") as work:
        figures = soak(index_dir, args.minutes, args.warmup, threads, args.uploads, args.session_calls, Path(work),
                       args.timeout, progress)
    if built:
        built.cleanup()
    figures["date"] = datetime.date.today().isoformat()
    figures["load_1min_at_end"] = os.getloadavg()[0]
    print(f"PolicyBot soak, {figures['date']}: {args.minutes:g} min after {args.warmup:g} s warm-up, "
          f"{args.uploads} uploads, {os.cpu_count()} CPUs, "
          f"load {figures['load_1min_at_end']:.1f} at the end\n")
    print(table(figures))
    for line in figures["error_examples"] + figures["wrong_examples"]:
        print("  ", line)
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 1 if figures["errors"] or figures["wrong"] or not figures["app_alive_at_end"] else 0


if __name__ == "__main__":
    sys.exit(main())
