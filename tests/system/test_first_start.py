"""The README's run command on a fresh clone: `python app.py` with no index builds one from the shipped
corpus (in a child process, beside Gradio's import) and then answers, embedding nothing itself."""

from __future__ import annotations

import httpx
import pytest

from ..webapp import web_app

pytestmark = pytest.mark.slow


def test_the_app_builds_a_missing_index_from_the_shipped_vectors_and_answers(tmp_path):
    index = tmp_path / "index"
    with web_app(index, tmp_path / "app.log") as url:
        reply = httpx.post(url + "v1/ask", json={"question": "科技成果转化项目最多能拿多少支持？"}, timeout=60).json()
    assert "1000万元" in reply["lead"] and reply["citations"], reply
    log = (tmp_path / "app.log").read_text(encoding="utf-8")
    assert "已建立索引" in log and "新嵌入 0" in log, log[-800:]  # the shipped vectors, no embedding at start
