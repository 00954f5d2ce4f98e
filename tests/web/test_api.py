"""The web app end to end: `python app.py` in a subprocess, its named endpoints through gradio_client."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .. import webapp

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def app_url(corpus_index_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("web") / "app.log"
    # these tests call one endpoint after another (tests/web/test_guard.py tests limits); a 1 MB upload cap
    with webapp.web_app(corpus_index_dir, log, POLICYBOT_RATE_LIMIT="0", POLICYBOT_MAX_FILE_MB="1") as url:
        yield url


@pytest.fixture(scope="module", params=["api/", ""], ids=["api-mount", "ui-endpoints"])
def client(app_url, request):
    """The endpoints at /api/ (for programs) and the same ones on the UI's Blocks at /."""
    return webapp.client(app_url + request.param)


@pytest.mark.slow
def test_the_api_mount_serves_exactly_the_three_named_endpoints(app_url):
    info = webapp.client(app_url + "api/").view_api(print_info=False, return_format="dict")
    assert set(info["named_endpoints"]) == {"/ask", "/search", "/match"} and not info["unnamed_endpoints"]


@pytest.mark.slow
@pytest.mark.parametrize("mount", ["api/", ""])
def test_uploads_over_the_size_limit_are_refused_on_both_mounts(app_url, mount):
    import httpx

    too_big = httpx.post(f"{app_url}{mount}gradio_api/upload", files={"files": ("a.txt", b"x" * (2 * 1024 * 1024))})
    assert too_big.status_code == 413


@pytest.mark.slow
def test_stopping_the_app_with_a_page_open_ends_quietly(corpus_index_dir, tmp_path):
    """An open page keeps Gradio's heartbeat stream open; SIGTERM still stops the app within its
    grace period, without a traceback in its log."""
    import threading
    import urllib.request

    log = tmp_path / "app.log"
    with webapp.web_app(corpus_index_dir, log) as url:
        stream = urllib.request.urlopen(f"{url}gradio_api/heartbeat/a-page", timeout=30)
        reader = threading.Thread(target=stream.read, daemon=True)
        reader.start()
        stopped = time.monotonic()
    assert time.monotonic() - stopped < 8
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "PolicyBot 已启动" in text and "Traceback" not in text and "ERROR" not in text


@pytest.mark.slow
def test_the_readmes_client_example_prints_the_cited_answer(app_url):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```python\n(.*?)```", readme, re.DOTALL).group(1)
    assert "http://127.0.0.1:7860/api/" in example and len(example.strip().splitlines()) <= 5
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(example.replace("http://127.0.0.1:7860/", app_url), {})  # noqa: S102 - the README's own code, run as a reader would
    assert "1000万元" in printed.getvalue() and "'四.(八)'" in printed.getvalue()


def test_a_port_in_use_is_refused_in_one_chinese_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "POLICYBOT_INDEX_DIR": str(tmp_path / "no-index")}  # refused before any indexing
        done = subprocess.run([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.strip() == f"错误：无法在 127.0.0.1:{port} 上启动网页服务：端口已被占用（可用 --host/--port 换一个）"
    assert not (tmp_path / "no-index").exists()


@pytest.mark.slow
def test_ask_endpoint_answers_with_the_amount_and_its_clause(client):
    result = client.predict("科技成果转化项目最多能拿多少支持？", api_name="/ask")
    assert "1000万元" in result["answer"]
    assert result["abstained"] is False
    paths = {c["clause_path"] for c in result["citations"]}
    assert "四.(八)" in paths
    first = result["citations"][0]
    assert {"clause_id", "clause_path", "quote"} <= set(first) and first["quote"]


@pytest.mark.slow
@pytest.mark.parametrize("mount", ["api/", ""])
def test_a_default_gradio_client_gets_the_cited_answer_and_hits(app_url, mount):
    """DESIGN.md: a default `Client(url)` must work; one that downloads files (the default) used to fail
    with 403 on a citation's "path" key, taken for a file on the server."""
    from gradio_client import Client

    client = Client(app_url + mount, verbose=False)
    answer = client.predict("科技成果转化项目最多能拿多少支持？", api_name="/ask")
    assert "1000万元" in answer["answer"] and "四.(八)" in {c["clause_path"] for c in answer["citations"]}
    found = client.predict("研发费用加计扣除", 3, api_name="/search")
    assert len(found["hits"]) == 3 and all(h["clause_id"].endswith("#" + h["clause_path"]) for h in found["hits"])


@pytest.mark.slow
@pytest.mark.parametrize(
    "endpoint,text,message",
    [
        ("/ask", "   ", "请输入问题"),
        ("/ask", "研发费用" * 130, "问题过长"),
        ("/ask", "🤔🤔？！", "没有识别到问题内容"),
        ("/ask", "What is the R&D super deduction?", "请用中文提问"),
        ("/ask", "\x00\x07\x1b\x7f", "没有识别到问题内容"),
        ("/search", "加计扣除" * 130, "过长"),
    ],
)
def test_bad_input_through_the_api_gets_a_one_line_chinese_message(client, endpoint, text, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message) as caught:
        client.predict(text, api_name=endpoint)
    assert "Traceback" not in str(caught.value) and "\n" not in str(caught.value).strip()


@pytest.mark.slow
def test_search_endpoint_pins_an_item_number(client):
    result = client.predict("（八）", 3, api_name="/search")
    assert 1 <= len(result["hits"]) <= 3
    top = result["hits"][0]
    assert top["clause_id"] == "guizhou-hitech-zones-plan-2021#四.(八)"
    assert top["citation"].startswith("《关于推进全省高新技术产业开发区高质量发展的实施方案》")


@pytest.mark.slow
def test_match_endpoint_judges_a_profile(client):
    profile = {"zone": {"name": "贵阳国家高新区", "level": "national"}, "revenue_wan": 5000, "is_hightech": True,
               "hightech_certified_years": 1, "hightech_revocation_grounds": False,  # the 15% rate's 第九条, 第十九条
               "sole_or_partnership": False}  # 企业所得税法第一条
    result = client.predict(json.dumps(profile, ensure_ascii=False), api_name="/match")
    verdicts = result["verdicts"]
    assert verdicts and {"rule_id", "status", "conditions", "citation_lines"} <= set(verdicts[0])
    eligible = [v["name"] for v in verdicts if v["status"] == "eligible"]
    assert any("15%" in name for name in eligible)


@pytest.mark.slow
def test_match_endpoint_names_the_bad_field(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="revenue_wan"):
        client.predict('{"revenue_wan": -1}', api_name="/match")
    with pytest.raises(AppError, match="JSON"):
        client.predict("{not json", api_name="/match")


class _Sink:
    """A proxy that answers nothing: the first line of every connection made through it (a CONNECT
    to a host for HTTPS, the request line for plain HTTP) is kept, and the connection closed."""

    def __init__(self) -> None:
        import threading

        self.lines: list[str] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                first = b""
                with contextlib.suppress(OSError):
                    first = conn.recv(4096).split(b"\r\n", 1)[0]
                self.lines.append(first.decode("latin-1") or "(a connection that sent nothing)")

    def close(self) -> None:
        self._server.close()


@pytest.mark.slow
def test_the_app_makes_no_connection_beyond_this_machine(corpus_index_dir, tmp_path):
    """Started as a user starts it (no GRADIO_ANALYTICS_ENABLED or other opt-out in its environment)
    with every proxy variable pointing at a sink: loading the page, asking a question and searching
    send nothing off the machine (no usage analytics, version check, model download or telemetry)."""
    import httpx

    sink = _Sink()
    proxies = {name: sink.url for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")}
    local = "127.0.0.1,localhost,::1"
    try:
        with webapp.web_app(corpus_index_dir, tmp_path / "app.log", NO_PROXY=local, no_proxy=local, **proxies) as url:
            assert "PolicyBot" in httpx.get(url, trust_env=False).text
            assert "1000万元" in webapp.client(url + "api/").predict("科技成果转化项目最多能拿多少支持？", api_name="/ask")["answer"]
            assert webapp.client(url).predict("研发费用加计扣除", 3, api_name="/search")["hits"]
            time.sleep(2)  # analytics and version checks run in background threads after start-up
    finally:
        sink.close()
    assert sink.lines == []
