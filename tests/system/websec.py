"""A real app over a small copy of a corpus, and the raw HTTP a browser (or an attacker) would send it:
uploads, Gradio queue events read from their event stream, requests from chosen loopback addresses."""

from __future__ import annotations

import itertools
import json
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx

from bot.service import PolicyBot
from bot.settings import Settings

from ..processes import free_port, running
from ..webapp import ROOT, START_TIMEOUT, answers_http

TOKEN = "websec-令牌"
POLICY = (
    "标题: 甲市科技创新扶持办法\n文号: 甲科发〔2024〕3号\n成文日期: 2024-03-01\n\n甲市科技创新扶持办法\n\n一、研发支持\n\n"
    "(一)研发补助。对研发投入强度超过5%的企业,给予不超过200万元补助。(责任单位:市科技局、市财政局)\n\n"
    "(二)人才引进。对引进的高端人才给予住房补贴。(责任单位:市人社局)\n"
)
_addresses = (f"127.0.{n // 250}.{n % 250 + 2}" for n in itertools.count(1))


def new_address() -> str:
    """A loopback address no other test sends from: the app counts limits per client address."""
    return next(_addresses)


class Site:
    """One app's folders: corpus, index, data (uploads under data/uploads), its TMPDIR and log."""

    def __init__(self, work: Path, embedder) -> None:
        self.work = work
        self.corpus, self.index, self.data, self.tmp = (work / n for n in ("corpus", "index", "data", "tmp"))
        self.log = work / "app.log"
        if not self.corpus.exists():
            self.corpus.mkdir(parents=True)
            (self.corpus / "plan-a.txt").write_text(POLICY, encoding="utf-8")
            self.tmp.mkdir()
            PolicyBot(Settings.from_env({}, index_dir=self.index, corpus_dir=self.corpus), embedder).ingest()

    @property
    def uploads(self) -> Path:
        return self.data / "uploads"

    def env(self, **settings: str) -> dict[str, str]:
        import os

        env = {k: v for k, v in os.environ.items() if not k.startswith(("POLICYBOT_", "GRADIO_"))}
        return {**env, "POLICYBOT_INDEX_DIR": str(self.index), "POLICYBOT_CORPUS_DIR": str(self.corpus),
                "POLICYBOT_DATA_DIR": str(self.data), "POLICYBOT_ADMIN_TOKEN": TOKEN, "TMPDIR": str(self.tmp), **settings}

    @contextmanager
    def serving(self, **settings: str) -> Iterator[tuple[str, object]]:
        """(url, process) while `python app.py` serves this site."""
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        with running([sys.executable, "app.py", "--port", str(port)], answers_http(url), self.log, START_TIMEOUT,
                     cwd=ROOT, env=self.env(**settings)) as proc:
            yield url, proc

    def files(self) -> set[Path]:
        """Every file in the app's upload folder."""
        return {p for p in self.uploads.rglob("*") if p.is_file()}


def http(url: str, address: str | None = None, **kwargs) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=address) if address else None
    return httpx.Client(base_url=url, transport=transport, timeout=120, **kwargs)


def upload(url: str, name: str, data: bytes, address: str | None = None, mount: str = "", **kwargs) -> httpx.Response:
    with http(url, address) as client:
        return client.post(f"{mount}gradio_api/upload", files={"files": (name, data)}, **kwargs)


def file_data(path: str) -> dict:
    return {"path": path, "orig_name": Path(path).name, "meta": {"_type": "gradio.FileData"}}


def fn_index(url: str, api_name: str) -> int:
    config = httpx.get(f"{url}config", timeout=30).json()
    return next(d["id"] for d in config["dependencies"] if d.get("api_name") == api_name)


class Event:
    """One Gradio queue event as the page sends it: joined, then read from its stream."""

    def __init__(self, url: str, api_name: str, data: list, address: str | None = None, headers: dict | None = None) -> None:
        self.client = http(url, address)
        self.session = uuid.uuid4().hex[:11]
        body = {"data": data, "fn_index": fn_index(url, api_name), "session_hash": self.session,
                "event_data": None, "trigger_id": None}
        self.joined = self.client.post("gradio_api/queue/join", json=body, headers=headers or {})
        self._stream = None

    def messages(self) -> Iterator[dict]:
        """The event's messages as they come, up to and including process_completed."""
        if self.joined.status_code != 200:
            return
        with self.client.stream("GET", "gradio_api/queue/data", params={"session_hash": self.session}) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    message = json.loads(line[5:])
                    yield message
                    if message.get("msg") == "process_completed":
                        return

    def finish(self) -> list[dict]:
        try:
            return list(self.messages())
        finally:
            self.client.close()


def run_event(url: str, api_name: str, data: list, address: str | None = None, headers: dict | None = None) -> tuple[Event, list[dict]]:
    event = Event(url, api_name, data, address, headers)
    return event, event.finish()


def outcome(messages: list[dict]) -> dict:
    """The process_completed message (empty when there was none)."""
    return next((m for m in messages if m.get("msg") == "process_completed"), {})
