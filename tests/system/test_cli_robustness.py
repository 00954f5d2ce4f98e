"""The CLI against hostile files, flags and environments. Each probe ends in one `错误：` line and exit
code 2, or in a finished ingest that names what it passed over and why: never a traceback, a hang, a
file read from outside the ingested folder, or memory without bound."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]


def policybot(*args: str, timeout: float = 60, memory: int | None = None, **env: str) -> subprocess.CompletedProcess:
    """`python -m bot.cli ARGS` as a user runs it, in the environment the tests set (its own index
    folder), with a deadline and optionally an address-space limit (bytes)."""

    def limit() -> None:
        if memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env}, preexec_fn=limit, stdin=subprocess.DEVNULL,
    )


def assert_one_error_line(code: int, err: str, *words: str) -> None:
    assert code == 2, err
    assert err.startswith("错误：") and err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err


POLICY = "标题: 丙市人才办法\n\n丙市人才办法\n\n第一条 对引进的博士给予安家补贴。\n"


def test_ingest_skips_a_file_name_that_is_not_utf8_and_indexes_the_rest(small_corpus, capsys):
    with open(os.fsencode(small_corpus) + b"/\xff\xfe.txt", "wb") as f:
        f.write(POLICY.encode("utf-8"))
    assert main(["ingest", str(small_corpus), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "文档 2 篇" in out  # the two valid files
    assert "跳过 " in out and "\\xff\\xfe.txt：文件名不是有效的 UTF-8 编码" in out


def test_ingest_names_a_pipe_and_never_opens_it(small_corpus, capsys):
    os.mkfifo(small_corpus / "pipe.txt")
    alone = policybot("ingest", "--quiet", str(small_corpus / "pipe.txt"), timeout=30)  # opening it would wait forever
    assert_one_error_line(alone.returncode, alone.stderr, "pipe.txt", "不是普通文件")
    assert main(["ingest", str(small_corpus), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "文档 2 篇" in out and "pipe.txt：不是普通文件（管道、设备或套接字）" in out


def test_ingest_does_not_follow_links_out_of_the_folder(small_corpus, tmp_path, capsys):
    outside = tmp_path / "outside"
    (outside / "more").mkdir(parents=True)
    (outside / "secret.txt").write_text(POLICY, encoding="utf-8")
    (outside / "more" / "other.txt").write_text(POLICY.replace("丙市", "丁市"), encoding="utf-8")
    (small_corpus / "x.txt").symlink_to(outside / "secret.txt")  # as x.txt -> /etc/passwd
    (small_corpus / "linked").symlink_to(outside / "more", target_is_directory=True)
    (small_corpus / "inside.md").symlink_to(small_corpus / "plan-a.txt")  # a link within the folder is fine

    assert main(["ingest", str(small_corpus), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "文档 3 篇" in out  # plan-a, rules-b and the in-folder link
    assert "x.txt：是指向导入文件夹之外的链接，未读取" in out
    assert "linked：是指向导入文件夹之外的链接，未进入" in out
    assert main(["search", "博士安家补贴", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert not any("丙市" in hit["doc_title"] or "丁市" in hit["doc_title"] for hit in hits)


@pytest.mark.parametrize("argv", [["search", "研发"], ["ingest", "--quiet"], ["show", "x#第一条"]], ids=lambda a: a[0])
@pytest.mark.parametrize("below", [False, True], ids=["the-file", "below-the-file"])
def test_an_index_dir_that_is_a_file_is_one_line(argv, below, tmp_path, capsys):
    (tmp_path / "afile").write_text("not a folder", encoding="utf-8")
    index_dir = tmp_path / "afile" / "sub" if below else tmp_path / "afile"
    code = main([*argv, "--index-dir", str(index_dir)])
    assert_one_error_line(code, capsys.readouterr().err, "afile 是文件，不是文件夹")


def test_output_in_an_ascii_only_locale_does_not_crash(small_corpus, capsys, monkeypatch):
    monkeypatch.setenv("POLICYBOT_EMBEDDER", "hash")  # about output, not ranking: no model to load
    assert main(["ingest", str(small_corpus), "--quiet"]) == 0
    capsys.readouterr()
    shown = policybot("search", "研发补助", "-k", "1", PYTHONIOENCODING="ascii")
    assert shown.returncode == 0 and "Traceback" not in shown.stderr, shown.stderr
    assert "\\u7814\\u53d1" in shown.stdout  # 研发, escaped rather than a crash
    as_json = policybot("search", "研发补助", "-k", "1", "--json", PYTHONIOENCODING="ascii")
    assert json.loads(as_json.stdout)["hits"][0]["clause_id"] == "plan-a#一.(一)"  # still valid JSON


@pytest.mark.parametrize("command", ["ask", "search"])
@pytest.mark.parametrize("k", ["0", "-5", "51", "100000"])
def test_k_outside_1_to_50_is_refused(command, k, capsys):
    code = main([command, "研发费用加计扣除", "-k", k])
    assert_one_error_line(code, capsys.readouterr().err, "-k", "1 到 50", k)


@pytest.mark.parametrize("entry", [["-m", "bot.cli", "serve"], ["app.py"]], ids=["policybot-serve", "app.py"])
@pytest.mark.parametrize("port", ["99999", "0", "-1"])
def test_a_port_outside_1_to_65535_is_refused_before_anything_starts(entry, port):
    started = subprocess.run([sys.executable, *entry, "--port", port], capture_output=True, text=True, timeout=60,
                             cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdin=subprocess.DEVNULL)
    assert_one_error_line(started.returncode, started.stderr, "端口应在 1 到 65535 之间", port)


BOMB = "".join(
    [f"l0: &l0 [{', '.join(['lol'] * 9)}]\n"]
    + [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]\n" for n in range(1, 9)]
    + ["name: [*l8, *l8, *l8, *l8, *l8, *l8, *l8, *l8, *l8]\n"]  # 9^10 strings once expanded
)


def test_a_yaml_alias_bomb_profile_is_refused_in_bounded_memory(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB, encoding="utf-8")
    assert bomb.stat().st_size < 1024
    refused = policybot("match", "--profile", str(bomb), memory=1024**3)
    assert_one_error_line(refused.returncode, refused.stderr, "bomb.yaml", "别名")
