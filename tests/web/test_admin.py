"""Document admin: uploads are checked, stored in the corpus and indexed; refused ones leave no trace."""

from __future__ import annotations

import tempfile
from pathlib import Path

import gradio as gr
import pytest

from bot.service import PolicyBot
from bot.settings import Settings
from bot.web.admin import DISABLED, DOC_HEADERS, DocumentAdmin
from bot.web.files import upload_root

TOKEN = "s3cret-令牌"
NEW_POLICY = (
    "标题: 丙市数字经济促进办法\n文号: 丙数发〔2025〕2号\n成文日期: 2025-01-10\n\n丙市数字经济促进办法\n\n"
    "一、算力支持\n\n(一)算力券。对租用算力的中小企业发放算力券,最高50万元。(责任单位:市大数据局)\n"
)


def no_progress(*args, **kwargs) -> None:
    pass


@pytest.fixture
def admin_bot(tmp_path, small_corpus, embedder) -> PolicyBot:
    settings = Settings.from_env({}, index_dir=tmp_path / "index", corpus_dir=small_corpus, admin_token=TOKEN,
                                 data_dir=tmp_path / "data")
    bot = PolicyBot(settings, embedder)
    bot.ingest()
    return bot


def upload_file(bot: PolicyBot, name: str, data: bytes) -> str:
    """A file as the upload route stores one: in a folder of its own in the app's upload folder."""
    upload_root(bot.settings).mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=upload_root(bot.settings)))
    path = folder / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.slow
def test_an_uploaded_policy_is_stored_in_the_corpus_and_searchable(admin_bot, tmp_path):
    admin = DocumentAdmin(admin_bot)
    summary, docs = admin.upload(TOKEN, [upload_file(admin_bot, "丙市数字经济.txt", NEW_POLICY.encode())], no_progress)
    assert "✓ **丙市数字经济.txt**：已导入，条款" in summary
    assert (admin_bot.settings.corpus_dir / "丙市数字经济.txt").exists()
    # a person reads the title and the short 文号; the file name comes last, labelled as such
    assert ["丙市数字经济促进办法", "丙数发〔2025〕2号"] in [row[:2] for row in docs]
    assert DOC_HEADERS[-1] == "文件名" and "丙市数字经济.txt" in [row[-1] for row in docs]
    assert admin_bot.search("算力券", 1)[0].clause.doc_slug == "丙市数字经济"


@pytest.mark.slow
def test_a_refused_upload_never_reaches_the_corpus_and_the_index_keeps_serving(admin_bot, tmp_path):
    admin = DocumentAdmin(admin_bot)
    generation = admin_bot.index.generation
    before = sorted(p.name for p in admin_bot.settings.corpus_dir.iterdir())
    bad = [upload_file(admin_bot, "假的.pdf", NEW_POLICY.encode()), upload_file(admin_bot, "空.txt", b"")]
    summary, _ = admin.upload(TOKEN, bad, no_progress)
    assert "✗ **假的.pdf**" in summary and "与扩展名不符" in summary and "✗ **空.txt**" in summary
    assert summary.count("假的.pdf") == summary.count("空.txt") == 1  # each named once, before its reason
    assert sorted(p.name for p in admin_bot.settings.corpus_dir.iterdir()) == before
    assert admin_bot.index.generation == generation


@pytest.mark.slow
def test_a_file_the_ingest_skips_is_taken_back_out_and_the_old_version_restored(admin_bot, tmp_path):
    admin = DocumentAdmin(admin_bot)
    old = (admin_bot.settings.corpus_dir / "plan-a.txt").read_bytes()
    # Passes the upload checks (decodes as text) but has no policy text the ingest can use.
    summary, _ = admin.upload(TOKEN, [upload_file(admin_bot, "plan-a.txt", " \n\t\n".encode())], no_progress)
    assert "✗ **plan-a.txt**：未能导入" in summary
    assert (admin_bot.settings.corpus_dir / "plan-a.txt").read_bytes() == old
    assert admin_bot.search("知识产权质押融资", 1)[0].clause.doc_slug == "plan-a"


@pytest.mark.parametrize("settings_token, given, message", [
    ("", "anything", "未设置管理口令"),
    (TOKEN, "wrong", "管理口令不正确"),
    (TOKEN, "", "请输入管理口令"),
])
def test_upload_needs_the_configured_admin_token(tmp_path, embedder, settings_token, given, message):
    bot = PolicyBot(Settings.from_env({}, index_dir=tmp_path / "index", admin_token=settings_token,
                                      data_dir=tmp_path / "data"), embedder)
    corpus_before = sorted(p.name for p in bot.settings.corpus_dir.rglob("*"))
    with pytest.raises(gr.Error, match=message):
        DocumentAdmin(bot).upload(given, [upload_file(bot, "a.txt", NEW_POLICY.encode())], no_progress)
    assert DISABLED.startswith("文档上传未启用")
    # refused before it touched anything: no file added to the corpus, no index built
    assert sorted(p.name for p in bot.settings.corpus_dir.rglob("*")) == corpus_before
    assert not bot.has_index()


@pytest.mark.slow
def test_an_upload_refused_as_a_whole_names_no_server_folder(admin_bot):
    """Another ingest holds the index: the admin reads why, without the server's folders in it."""
    import fcntl

    from bot.ingest.build import LOCK_FILE

    admin = DocumentAdmin(admin_bot)
    with open(admin_bot.settings.index_dir / LOCK_FILE, "a+", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        summary, _ = admin.upload(TOKEN, [upload_file(admin_bot, "丙市数字经济.txt", NEW_POLICY.encode())], no_progress)
    assert "另一个导入正在进行" in summary and "丙市数字经济.txt" in summary
    for folder in (admin_bot.settings.index_dir, admin_bot.settings.corpus_dir, admin_bot.settings.data_dir):
        assert str(folder) not in summary and folder.name not in summary
    assert not (admin_bot.settings.corpus_dir / "丙市数字经济.txt").exists()
