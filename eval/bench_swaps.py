"""The web app's memory over index swaps: RSS after N swaps, the figure of docs/benchmarks.md.

Starts one `python app.py` on 127.0.0.1 over copies of a built index and of the corpus, with an admin
token, and swaps its index --swaps times: an admin uploads a policy file through the 文档管理 tab
(the page's own protocol), or an external `python -m bot.cli ingest` rebuilds the same index folder
(--via upload, cli, or both in turn). The file's figure changes every swap, and each swap is followed
by a /search that must find the new figure (the app serves the new generation) and an /ask. The
app's RSS (VmRSS) and thread count are read after --warmup swaps (caches filled) and every 10 swaps.

    python eval/bench_swaps.py [--swaps 50] [--warmup 5] [--via both] [--index-dir DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import webload as wl
from soak import Browser

NAME = "bench-swap.txt"
QUESTION = "租用算力的中小企业能领多少算力券？"


def policy(n: int) -> bytes:
    """The swapped file, version `n`: its figure tells which version the app serves."""
    return (f"标题: 丁市算力券试行办法\n文号: 丁数发〔2025〕{n}号\n成文日期: 2025-03-01\n\n丁市算力券试行办法\n\n"
            f"一、算力支持\n\n(一)算力券。对租用算力的中小企业发放算力券,最高{100 + n}万元。(责任单位:市大数据局)\n"
            ).encode("utf-8")


def threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise RuntimeError(f"no thread count for pid {pid}")


class Swapper:
    """Swaps the served index one way or the other and checks the app serves the new version."""

    def __init__(self, url: str, work: Path, env: dict[str, str], token: str) -> None:
        self.url, self.work, self.env, self.token = url, work, env, token
        self.browser = Browser(url)
        self.session = uuid.uuid4().hex  # one admin page: each new session would cost the app ~0.1 MB
        self.client = wl.client(url)

    def swap(self, n: int, via: str) -> None:
        if via == "upload":
            summary = self.browser.upload(self.session, self.token, NAME, policy(n))
            if f"✓ **{NAME}**：已导入" not in summary:
                raise RuntimeError(f"upload {n} not indexed: {summary[:200]}")
        else:
            (self.work / "corpus" / NAME).write_bytes(policy(n))
            subprocess.run([sys.executable, "-m", "bot.cli", "ingest", "--quiet", str(self.work / "corpus")],
                           cwd=wl.ROOT, env=self.env, check=True, stdout=subprocess.DEVNULL)
        hits = self.client.predict("算力券 最高多少万元", 3, api_name="/search")["hits"]
        if not any(f"最高{100 + n}万元" in hit["text"] for hit in hits):
            raise RuntimeError(f"after swap {n} the app does not serve the new version: {[h['text'][:40] for h in hits]}")
        self.client.predict(QUESTION, api_name="/ask")


def bench(index_dir: Path, swaps: int, warmup: int, via: str, work: Path, timeout: float,
          progress: Callable[[str], None]) -> dict:
    port = wl.free_port()
    url = f"http://127.0.0.1:{port}/"
    token = secrets.token_urlsafe(16)
    shutil.copytree(index_dir, work / "index")
    shutil.copytree(wl.ROOT / "corpus", work / "corpus")
    env = wl.app_env(work / "index", POLICYBOT_ADMIN_TOKEN=token, POLICYBOT_CORPUS_DIR=str(work / "corpus"),
                     POLICYBOT_DATA_DIR=str(work / "data"), POLICYBOT_RATE_LIMIT="100000",
                     POLICYBOT_RATE_LIMIT_BURST="1000")
    ways = ["upload", "cli"] if via == "both" else [via]
    samples: list[dict] = []  # after warm-up, then every 10 swaps
    with open(work / "app.log", "wb") as log:
        proc = wl.start_app(port, env, log)
        try:
            wl.wait_http(url, proc, timeout)
            swapper = Swapper(url, work, env, token)
            started = time.monotonic()
            for n in range(1, warmup + swaps + 1):
                swapper.swap(n, ways[n % len(ways)])
                done = n - warmup
                if done >= 0 and (done % 10 == 0 or done == swaps):
                    samples.append({"swaps": done, "rss_mb": wl.rss_mb(proc.pid), "threads": threads(proc.pid)})
                    progress(f"{done:3d} swaps  RSS {samples[-1]['rss_mb']:.0f} MB  {samples[-1]['threads']} threads")
            seconds = time.monotonic() - started
        finally:
            wl.stop(proc)
    first, last = samples[0], samples[-1]
    return {"swaps": swaps, "warmup_swaps": warmup, "via": via, "seconds": seconds, "samples": samples,
            "rss_after_warmup_mb": first["rss_mb"], "rss_end_mb": last["rss_mb"],
            "rss_growth_mb": last["rss_mb"] - first["rss_mb"],
            "rss_growth_per_swap_mb": (last["rss_mb"] - first["rss_mb"]) / max(swaps, 1),
            "thread_growth": last["threads"] - first["threads"]}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--swaps", type=int, default=50, help="swaps measured (default 50)")
    parser.add_argument("--warmup", type=int, default=5, help="swaps before the first reading (default 5)")
    parser.add_argument("--via", choices=["upload", "cli", "both"], default="both",
                        help="admin uploads, external ingests, or both in turn (default both)")
    parser.add_argument("--index-dir", type=Path, help="a built index (default: POLICYBOT_INDEX_DIR or index/)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the app (default 120)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--json", type=Path, help="also write all figures to this JSON file")
    args = parser.parse_args(argv)
    if args.swaps < 1 or args.warmup < 0:
        parser.error("--swaps must be at least 1 and --warmup non-negative")

    index_dir, built = wl.ensure_index(args.index_dir)
    progress = (lambda _line: None) if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    with tempfile.TemporaryDirectory(prefix="policybot-swaps-") as work:
        figures = bench(index_dir, args.swaps, args.warmup, args.via, Path(work), args.timeout, progress)
    if built:
        built.cleanup()
    figures["date"] = datetime.date.today().isoformat()
    print(f"PolicyBot index swaps, {figures['date']}, {os.cpu_count()} CPUs: {args.swaps} swaps via {args.via} "
          f"in {figures['seconds']:.0f} s after {args.warmup} warm-up swaps")
    print(f"app RSS {figures['rss_after_warmup_mb']:.0f} MB -> {figures['rss_end_mb']:.0f} MB "
          f"(growth {figures['rss_growth_mb']:+.1f} MB, {figures['rss_growth_per_swap_mb']:+.2f} MB a swap); "
          f"threads {figures['thread_growth']:+d}")
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
