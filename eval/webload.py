"""What eval/bench_web.py and eval/soak.py share: start `python app.py` on a loopback port, call it
through gradio_client the way an API user does (or through LeanClient, Gradio's queue protocol over
httpx), check answers against the index, read a process's RSS and CPU time from /proc."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bot.evaluation.metrics import percentile

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "eval" / "questions.jsonl"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(index_dir: Path, **extra: str) -> dict[str, str]:
    """The app's environment: this index, embedded Chroma, plus `extra` POLICYBOT_* values."""
    env = {**os.environ, "POLICYBOT_INDEX_DIR": str(index_dir), "PYTHONPATH": str(ROOT)}
    env.pop("POLICYBOT_CHROMA_URL", None)
    env.update(extra)
    return env


def start_app(port: int, env: dict[str, str], log: IO[bytes]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_http(url: str, proc: subprocess.Popen, timeout: float) -> None:
    """Poll until GET `url` answers 200; fail if the process exits or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited with {proc.returncode} before answering HTTP")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"app did not answer HTTP within {timeout:.0f} s")
        time.sleep(0.05)


def client(url: str, shared_tls: bool = True):
    """A gradio_client Client the way README shows it. gradio_client opens a new httpx client for every
    request, and with ssl_verify=True each one re-reads the CA bundle: ~35 ms of CPU, two per /ask. An
    ssl.SSLContext built once (same verification) removes that; shared_tls=False keeps the default."""
    from gradio_client import Client

    # download_files=False: no endpoint returns a file, so there is nothing to fetch.
    verify = _tls_context() if shared_tls else True
    return Client(url, verbose=False, download_files=False, ssl_verify=verify)


@functools.lru_cache(maxsize=1)
def _tls_context():
    import ssl

    return ssl.create_default_context()


def ensure_index(index_dir: Path | None) -> tuple[Path, tempfile.TemporaryDirectory | None]:
    """An index folder with a built index: the given one (must be built), else POLICYBOT_INDEX_DIR or
    the repo's index/ when built, else a fresh one in a temp dir (built now, not timed)."""
    from bot.index.store import read_current

    candidates = [index_dir] if index_dir else [Path(p) for p in [os.environ.get("POLICYBOT_INDEX_DIR")] if p]
    candidates = candidates or [ROOT / "index"]
    for path in candidates:
        if read_current(path):
            return path.resolve(), None
    if index_dir:
        sys.exit(f"{index_dir} holds no built index; run `policybot ingest corpus` with POLICYBOT_INDEX_DIR={index_dir}")
    tmp = tempfile.TemporaryDirectory(prefix="policybot-web-")
    print(f"building an index of corpus/ in {tmp.name} (not timed)…", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "bot.cli", "ingest", "--quiet", str(ROOT / "corpus")], cwd=ROOT,
                   env=app_env(Path(tmp.name)), check=True, stdout=subprocess.DEVNULL)
    return Path(tmp.name), tmp


def clause_texts(index_dir: Path) -> dict[str, str]:
    """clause id -> text of the serving generation, read from its clauses.json."""
    from bot.index.store import Store, read_current

    data = json.loads((index_dir / read_current(index_dir) / "clauses.json").read_text(encoding="utf-8"))
    return {cid: clause.text for cid, clause in Store.from_json(data).clauses.items()}


def questions(path: Path = QUESTIONS, n: int | None = None) -> list[str]:
    """The set's distinct questions (a multi-turn case gives its first turn), or `n` of them spread
    evenly over the set (which mixes every category)."""
    from bot.evaluation.questions import load_questions

    asked = list(dict.fromkeys(q.question for q in load_questions(path)))
    if n is None:
        return asked
    step = max(1, len(asked) // n)
    return asked[::step][:n]


def citation_key(result: dict) -> tuple:
    return (result["answer"], result["abstained"],
            tuple((c["clause_id"], c["clause_path"], c["quote"]) for c in result["citations"]))


def answer_problems(result: dict, reference: dict, texts: dict[str, str]) -> list[str]:
    """Why an /ask result under load is wrong: not the answer the same question got alone, a citation
    to a clause the index lacks, a quote that is not an exact substring of its clause, or a path that
    is not the clause's own."""
    problems = []
    if citation_key(result) != citation_key(reference):
        problems.append("differs from the answer given without load")
    for c in result["citations"]:
        text = texts.get(c["clause_id"])
        if text is None:
            problems.append(f"cites unknown clause {c['clause_id']}")
        elif c["quote"] not in text:
            problems.append(f"quote not in {c['clause_id']}: {c['quote'][:30]}")
        elif not c["clause_id"].endswith("#" + c["clause_path"]):
            problems.append(f"clause_path {c['clause_path']} does not match {c['clause_id']}")
    if not result["abstained"] and not result["citations"]:
        problems.append("answer without citations")
    return problems


def finish(figures: dict, runs, json_path: Path | None) -> int:
    """Print each run's example errors and wrong answers, write `figures` as JSON if asked, and the exit
    status: 1 when any run had an error or a wrong answer."""
    runs = list(runs)
    for line in [x for run in runs for x in run["error_examples"] + run["wrong_examples"]]:
        print("  ", line)
    if json_path:
        json_path.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 1 if any(run["errors"] or run["wrong"] for run in runs) else 0


def rss_mb(pid: int) -> float:
    """Resident set size of a process, from /proc/<pid>/status (VmRSS, kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc/<pid>/stat: on a busy machine a
    steadier figure than wall time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Tally:
    """Latencies (ms) and errors of one endpoint."""

    ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        return {"calls": len(self.ms) + len(self.errors), "errors": len(self.errors),
                "p50_ms": percentile(self.ms, 50), "p95_ms": percentile(self.ms, 95),
                "max_ms": max(self.ms, default=0.0)}


class LeanClient:
    """Gradio's queue protocol spoken directly (POST queue/join, then read the session's SSE stream),
    one session per simulated user, over one pool of kept-alive connections. gradio_client opens two
    new connections per call (which costs the app too) and runs threads per job; this client costs a
    few ms of CPU a call, so on a 2-core machine shared with the app what it measures is the app."""

    def __init__(self, url: str) -> None:
        import httpx

        self.url = url.rstrip("/") + "/"
        config = httpx.get(self.url + "config", timeout=10).json()
        self.prefix = config.get("api_prefix", "/gradio_api").strip("/") + "/"
        self.fn = {d["api_name"]: d["id"] for d in config["dependencies"] if d.get("api_name")}

    async def call(self, http, session: str, api_name: str, *data) -> dict:
        """One call, like Client.predict: the endpoint's result, or RuntimeError with the app's message."""
        join = await http.post(self.url + self.prefix + "queue/join",
                               json={"data": list(data), "fn_index": self.fn[api_name], "session_hash": session,
                                     "event_data": None, "trigger_id": None})
        join.raise_for_status()
        event_id = join.json()["event_id"]
        async with http.stream("GET", self.url + self.prefix + "queue/data",
                               params={"session_hash": session}) as stream:
            async for line in stream.aiter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") == event_id and message.get("msg") == "process_completed":
                    output = message.get("output") or {}
                    if not message.get("success"):
                        raise RuntimeError(output.get("error") or "failed")
                    return output["data"][0]
        raise RuntimeError("stream closed before the answer")
