"""Raw HTTP callers of a running app, as a program (or an attacker) drives it: the named endpoints
through Gradio's /call/ route and the UI's events through its queue, from a chosen loopback source
address (127.0.0.N: each N is another client to the app), with any headers and session hash."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

import httpx


@dataclass
class Caller:
    """One client machine: every request leaves from `source`."""

    url: str  # the app's root URL, ending in /
    source: str = "127.0.0.1"
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(transport=httpx.HTTPTransport(local_address=self.source), timeout=60, trust_env=False)

    def call(self, endpoint: str, *args, mount: str = "api/", headers: dict | None = None,
             session: str | None = None) -> tuple[str, object]:
        """("complete", the endpoint's value) or ("error", the message a caller sees). `args` go out as
        JSON exactly (lone surrogates escaped, inf as Infinity), as a hand-written client would send them."""
        body = {"data": list(args), "session_hash": session or uuid.uuid4().hex}
        started = self.http.post(f"{self.url}{mount}gradio_api/call/{endpoint}", content=json.dumps(body),
                                 headers={"content-type": "application/json", **(headers or {})})
        started.raise_for_status()
        result = self.http.get(f"{self.url}{mount}gradio_api/call/{endpoint}/{started.json()['event_id']}")
        event, data = "", None
        for line in result.text.splitlines():
            if line.startswith("event: "):
                event = line[len("event: "):]
            elif line.startswith("data: ") and event in ("complete", "error"):
                data = json.loads(line[len("data: "):])
        if event == "complete":
            return event, data[0]
        return event, (data or {}).get("error") or "The upstream Gradio app has raised an exception"

    def ui(self) -> "UiSession":
        return UiSession(self)


@dataclass
class Outcome:
    success: bool
    output: list  # the event's output values (success) or []
    error: str  # the error message (failure)
    warnings: list[str]  # gr.Warning / gr.Info messages shown beside the form


class UiSession:
    """One page load: events triggered by clicking a component (found by its elem_id), the session's
    state (the last answer, the conversation) kept by the server as for a browser tab."""

    def __init__(self, caller: Caller) -> None:
        self.caller = caller
        self.session = uuid.uuid4().hex
        config = caller.http.get(f"{caller.url}config").json()
        ids = {c["id"]: c.get("props", {}).get("elem_id") for c in config["components"]}
        self.events = {(ids.get(target), trigger): (dep["id"], target)
                       for dep in config["dependencies"] for target, trigger in dep["targets"]}

    def click(self, elem_id: str, *data, trigger: str = "click") -> Outcome:
        fn_index, target = self.events[(elem_id, trigger)]
        base = f"{self.caller.url}gradio_api/queue"
        joined = self.caller.http.post(f"{base}/join", json={"data": list(data), "fn_index": fn_index, "trigger_id": target,
                                                             "session_hash": self.session, "event_data": None})
        joined.raise_for_status()
        event_id = joined.json()["event_id"]
        warnings: list[str] = []
        with self.caller.http.stream("GET", f"{base}/data", params={"session_hash": self.session}) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data: "):
                    continue
                message = json.loads(line[len("data: "):])
                if message.get("event_id") != event_id:
                    continue
                if message.get("msg") == "log":
                    warnings.append(message.get("log") or "")
                if message.get("msg") == "process_completed":
                    output = message.get("output") or {}
                    if message.get("success"):
                        return Outcome(True, output.get("data") or [], "", warnings)
                    return Outcome(False, [], output.get("error") or "The upstream Gradio app has raised an exception", warnings)
        raise AssertionError(f"the event {elem_id} never completed")
