"""Files, uploads and request bodies, probed from outside a real `python app.py` as an attacker would:
no event may name a server file, uploads are taken only where a page needs them and within limits
and are deleted once used, bodies are capped while they stream, 评测 runs one at a time, and an upload
reaches the corpus only once its ingest (a child process of the app) committed: a kill -9 mid-ingest
leaves the corpus as it was and ends the ingest too."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
import zipfile
from pathlib import Path

import pytest

from bot.errors import UploadError
from bot.web.files import admitted

from .websec import TOKEN, Event, Site, file_data, new_address, outcome, run_event, upload

pytestmark = pytest.mark.slow
MB = 1024 * 1024
SECRET_ID = "q-secret-server-file"
NEW_POLICY = (
    "标题: 丙市数字经济促进办法\n文号: 丙数发〔2025〕2号\n成文日期: 2025-01-10\n\n丙市数字经济促进办法\n\n"
    "一、算力支持\n\n(一)算力券。对租用算力的中小企业发放算力券,最高50万元。(责任单位:市大数据局)\n"
)


def question_set(n: int, prefix: str = "q") -> bytes:
    lines = [{"id": f"{prefix}{i}", "question": f"研发补助最多多少万元？（第{i}问）", "answerable": True,
              "gold_quotes": ["给予不超过200万元补助"], "category": "amount"} for i in range(n)]
    return "\n".join(json.dumps(q, ensure_ascii=False) for q in lines).encode() + b"\n"


def big_policy(sentences: int) -> bytes:
    body = "".join(f"第{i}项：对本市第{i}类企业给予{i}万元专项补助。" for i in range(sentences))
    return f"标题: 乙市大型扶持办法\n\n乙市大型扶持办法\n\n一、专项补助\n\n(一){body}\n".encode()


def running(pid: int) -> bool:
    """Whether process `pid` exists and has not ended (a zombie waiting to be reaped has)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def summary_of(messages: list[dict]) -> str:
    data = outcome(messages).get("output", {}).get("data") or [""]
    return data[0] or ""


@pytest.fixture(scope="module")
def site(tmp_path_factory, embedder) -> Site:
    return Site(tmp_path_factory.mktemp("files-app"), embedder)


@pytest.fixture(scope="module")
def app(site) -> str:
    with site.serving(POLICYBOT_MAX_FILE_MB="1", POLICYBOT_UPLOAD_QUOTA_MB="3", POLICYBOT_UPLOAD_RATE_LIMIT="5",
                      POLICYBOT_EVAL_RUNS_PER_HOUR="2") as (url, _):
        yield url


# ---- 1. no event reads a file the client names ----

def test_the_eval_event_cannot_run_a_server_file_and_does_not_tell_whether_it_exists(app, site, tmp_path):
    secret = tmp_path / "secret.jsonl"
    secret.write_text(json.dumps({"id": SECRET_ID, "question": "研发补助多少？"}, ensure_ascii=False) + "\n", encoding="utf-8")
    answers = []
    for path in (str(secret), str(tmp_path / "missing.jsonl")):
        event, messages = run_event(app, "run", [file_data(path), ["bm25"], True], new_address())
        answers.append((event.joined.status_code, event.joined.text))
        assert event.joined.status_code == 403 and "请重新选择文件" in event.joined.json()["error"]
        assert not outcome(messages)
    assert answers[0] == answers[1]  # an existing file and a missing one are refused alike
    reports = [z for z in site.uploads.rglob("*.zip")]
    assert not any(SECRET_ID in zipfile.ZipFile(z).read("metrics.json").decode() for z in reports)


def test_the_admin_event_cannot_copy_a_server_file_into_the_corpus(app, site, tmp_path):
    server_file = tmp_path / "内部文件.txt"
    server_file.write_text(NEW_POLICY, encoding="utf-8")
    event, _ = run_event(app, "upload", [TOKEN, [file_data(str(server_file))]], new_address())
    assert event.joined.status_code == 403
    assert sorted(p.name for p in site.corpus.iterdir() if p.is_file()) == ["plan-a.txt"]


def test_a_handler_opens_only_regular_files_inside_the_upload_folder(tmp_path):
    root = tmp_path / "uploads"
    (root / "h").mkdir(parents=True)
    outside = tmp_path / "secret.txt"
    outside.write_text("x", encoding="utf-8")
    (root / "h" / "link.txt").symlink_to(outside)
    (root / "h" / "ok.txt").write_text("x", encoding="utf-8")
    assert admitted(root, {"path": str(root / "h" / "ok.txt")}) == (root / "h" / "ok.txt").resolve()
    for path in (root / "h" / "link.txt", root / "h" / ".." / ".." / "secret.txt", outside, root / "h"):
        with pytest.raises(UploadError, match="请重新选择文件"):
            admitted(root, {"path": str(path)})


# ---- 2. uploads: where needed, limited, and cleaned up ----

def test_the_api_mount_takes_no_uploads(app):
    refused = upload(app, "a.txt", b"hello", new_address(), mount="api/")
    assert refused.status_code == 404 and "/api/" in refused.json()["error"]


def test_a_client_uploading_fast_is_slowed_down_and_others_are_not(app, site):
    address = new_address()
    codes = [upload(app, f"f{i}.txt", b"x", address).status_code for i in range(7)]
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
    assert "每分钟最多 5 次" in upload(app, "g.txt", b"x", address).json()["error"]
    assert upload(app, "other.txt", b"x", new_address()).status_code == 200


def test_an_event_with_a_wrong_token_leaves_no_file_behind(app, site):
    before = site.files()
    address = new_address()
    stored = upload(app, "丙市数字经济.txt", NEW_POLICY.encode(), address).json()
    assert {Path(p) for p in stored} <= site.files()
    event, messages = run_event(app, "upload", ["wrong", [file_data(p) for p in stored]], address)
    assert outcome(messages)["output"]["error"] == "管理口令不正确"
    assert site.files() <= before  # neither the upload nor an empty temp file per event is left


def test_uploads_fill_the_folder_only_up_to_the_quota_and_freeing_it_makes_room(app, site):
    address = new_address()
    stored, codes = [], []
    for i in range(4):
        answer = upload(app, f"big{i}.txt", b"x" * (MB - 4096), address)
        codes.append(answer.status_code)
        stored += answer.json() if answer.status_code == 200 else []
        if answer.status_code == 507:
            assert "上传空间已满" in answer.json()["error"]
            break
    assert codes[-1] == 507 and sum(p.stat().st_size for p in site.files()) <= 3 * MB
    run_event(app, "upload", ["wrong", [file_data(p) for p in stored]], address)  # handled: deleted
    assert upload(app, "after.txt", b"x" * (MB - 4096), new_address()).status_code == 200


def test_uploads_older_than_an_hour_are_deleted_at_the_next_upload(app, site):
    (old,) = upload(app, "old.txt", b"old", new_address()).json()
    hours_ago = time.time() - 2 * 3600
    os.utime(old, (hours_ago, hours_ago))
    upload(app, "new.txt", b"new", new_address())
    assert not Path(old).exists()


# ---- 3. request bodies are capped as they stream ----

def raw_post(url: str, path: str, headers: dict[str, str], chunks) -> tuple[int, bytes]:
    """(status, body) of a POST sent over a bare socket: the answer is read even when the server
    stops reading the body and closes."""
    host, port = url.split("//")[1].strip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
        sock.sendall((head + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode())
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except OSError:  # the server answered and closed: the rest is never read
            pass
        answer = b""
        try:
            while data := sock.recv(65536):
                answer += data
        except OSError:
            pass
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def chunked(megabytes: int):
    piece = b"x" * MB
    for _ in range(megabytes):
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


@pytest.mark.parametrize("path", ["/api/gradio_api/queue/join", "/gradio_api/queue/join", "/api/gradio_api/call/ask"])
def test_a_declared_200_mb_body_is_refused_before_it_is_read(app, path):
    status, body = raw_post(app, path, {"Content-Type": "application/json", "Content-Length": str(200 * MB)}, [b"{}"])
    assert status == 413 and "请求内容过大" in json.loads(body)["error"]


def test_an_undeclared_large_body_is_cut_off_after_the_limit(app):
    status, body = raw_post(app, "/api/gradio_api/queue/join",
                               {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}, chunked(4))
    assert status == 413 and "上限 1 MB" in json.loads(body)["error"]
    for size in (2 * MB, MB + 4096):  # over the body limit of the upload route; over the file limit only
        over = upload(app, "big.txt", b"x" * size, new_address())
        assert over.status_code == 413 and "每个文件不超过 1 MB" in over.json()["error"]


# ---- 7. 评测: one run at a time, so many per client, one report kept ----

def eval_run(app: str, questions: bytes, address: str) -> Event:
    (stored,) = upload(app, "set.jsonl", questions, address).json()
    return Event(app, "run", [file_data(stored), ["bm25", "hybrid"], False], address)


def test_a_second_eval_run_waits_for_the_first_and_each_client_has_a_limit(app, site):
    first = eval_run(app, question_set(150), new_address())
    stream = first.messages()
    assert next(m for m in stream if m.get("msg") in ("progress", "process_completed"))["msg"] == "progress"
    second = eval_run(app, question_set(2), new_address()).finish()
    assert "另一个评测正在运行" in summary_of(second)
    rest = list(stream)
    assert "150 个问题" in summary_of(rest)

    address = new_address()
    summaries = [summary_of(eval_run(app, question_set(2, f"r{i}-"), address).finish()) for i in range(3)]
    assert ["2 个问题" in s for s in summaries] == [True, True, False]
    assert "每个客户端每小时最多 2 次" in summaries[2]
    # one report kept, holding only what the page offers; nothing in the app's temp folder
    runs = [p for p in (site.uploads / "eval").iterdir()]
    assert len(runs) == 1 and sorted({p.suffix for p in runs[0].iterdir()}) == [".png", ".zip"]
    assert not list(site.tmp.glob("policybot-eval-*"))
    assert not [p for p in site.files() if p.suffix == ".jsonl"]  # each uploaded set deleted once read


# ---- 9. an upload reaches the corpus only once indexed ----

def test_a_crash_during_an_upload_ingest_leaves_the_corpus_as_it_was(tmp_path_factory, embedder):
    site = Site(tmp_path_factory.mktemp("crash-app"), embedder)
    lock = site.index / ".ingest.lock"
    with site.serving() as (url, proc):
        stored = upload(url, "乙市大型扶持办法.txt", big_policy(3000)).json()
        event = Event(url, "upload", [TOKEN, [file_data(p) for p in stored]])
        deadline = time.monotonic() + 60
        while not (lock.exists() and lock.read_text().strip()):  # the ingest holds the lock and wrote its PID
            assert time.monotonic() < deadline, "the ingest never started"
            time.sleep(0.01)
        ingest = int(lock.read_text())  # a child of the app: it must not go on alone
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        event.client.close()
    deadline = time.monotonic() + 10
    while running(ingest):
        assert time.monotonic() < deadline, "the upload's ingest outlived the app"
        time.sleep(0.05)
    assert sorted(p.name for p in site.corpus.iterdir() if p.is_file()) == ["plan-a.txt"]

    with site.serving() as (url, _):
        assert not any(site.work.glob(".corpus-staging/*"))  # what the crash left staged is gone
        stored = upload(url, "丙市数字经济.txt", NEW_POLICY.encode()).json()
        _, messages = run_event(url, "upload", [TOKEN, [file_data(p) for p in stored]])
    summary = summary_of(messages)
    documents = [row[-1] for row in outcome(messages)["output"]["data"][1]["data"]]  # the 文件名 column
    assert "✓ **丙市数字经济.txt**：已导入" in summary and "乙市大型扶持办法" not in summary
    assert sorted(documents) == ["plan-a.txt", "丙市数字经济.txt"]
    assert sorted(p.name for p in site.corpus.iterdir() if p.is_file()) == ["plan-a.txt", "丙市数字经济.txt"]
