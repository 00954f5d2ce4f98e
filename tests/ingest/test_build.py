import json
import os
from pathlib import Path

import pytest

from bot.errors import IndexUnavailable, PolicyBotError
from bot.index.store import read_current
from bot.service import PolicyBot
from bot.settings import Settings

from .. import files
from ..conftest import CountingEmbeddings


def _bot(index_dir: Path, embedder) -> PolicyBot:
    return PolicyBot(Settings.from_env({}, index_dir=index_dir), embedder)


def test_ingest_builds_a_searchable_index_and_reports_counts(small_corpus, small_bot):
    report = small_bot.ingest([small_corpus])
    assert (report.documents, report.skipped) == (2, [])
    assert report.chunks == report.embedded > 0
    hits = small_bot.search("知识产权质押融资贴息", k=3)
    assert hits[0].clause.id == "plan-a#二.(三)"
    assert hits[0].clause.responsible_units == ("市金融办",)


def test_reingesting_an_unchanged_corpus_embeds_nothing(small_corpus, tmp_path):
    counting = CountingEmbeddings()
    bot = _bot(tmp_path / "idx", counting)
    first = bot.ingest([small_corpus])
    embedded_once = counting.passages
    second = bot.ingest([small_corpus])
    assert counting.passages == embedded_once
    assert (second.embedded, second.reused) == (0, first.chunks)
    assert bot.search("技术合同成交额奖励", k=1)[0].clause.id == "rules-b#第二条"


def test_changing_one_file_reembeds_only_that_files_chunks(small_corpus, tmp_path):
    counting = CountingEmbeddings()
    bot = _bot(tmp_path / "idx", counting)
    bot.ingest([small_corpus])
    b_chunks = sum(1 for c in bot.index.store.chunks.values() if c.doc_slug == "rules-b")
    path = small_corpus / "rules-b.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("1000万元", "2000万元"), encoding="utf-8")
    before = counting.passages
    report = bot.ingest([small_corpus])
    assert 0 < report.embedded == counting.passages - before <= b_chunks
    assert "2000万元" in bot.view("rules-b#第二条").clause.text


def test_a_serving_bot_sees_another_processs_ingest_at_its_next_question(small_corpus, small_bot, embedder):
    small_bot.ingest([small_corpus])
    serving = _bot(small_bot.settings.index_dir, embedder)  # the web app, say; the ingest is the CLI's
    assert "1000万元" in serving.view("rules-b#第二条").clause.text
    path = small_corpus / "rules-b.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("1000万元", "3000万元"), encoding="utf-8")
    small_bot.ingest([small_corpus])
    assert "3000万元" in serving.view("rules-b#第二条").clause.text


def test_an_empty_folder_fails_and_keeps_the_previous_index(small_corpus, fake_bot, tmp_path):
    fake_bot.ingest([small_corpus])
    generation = read_current(fake_bot.settings.index_dir)
    (tmp_path / "empty").mkdir()
    with pytest.raises(PolicyBotError, match="没有可导入的文档"):
        fake_bot.ingest([tmp_path / "empty"])
    assert read_current(fake_bot.settings.index_dir) == generation
    assert fake_bot.search("人才住房补贴", k=1)[0].clause.id == "plan-a#一.(二)"


BAD_FILES = [
    ("empty.txt", lambda p: p.write_bytes(b""), "为空"),
    ("binary.txt", lambda p: p.write_bytes(bytes(range(256)) * 40), "不是文本文件"),
    ("encrypted.pdf", lambda p: p.write_bytes(files.pdf([["加密的政策文件"]], encrypt="secret")), "加密"),
    ("scanned.pdf", lambda p: p.write_bytes(files.pdf([[]])), "没有文字层"),
    ("huge.txt", lambda p: p.write_bytes(b"a" * (50 * 1024 * 1024)), "文件过大"),
]


@pytest.mark.parametrize("name,make,reason", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_bad_file_is_skipped_with_its_reason_and_the_rest_still_index(name, make, reason, small_corpus, fake_bot):
    fake_bot.ingest([small_corpus])
    before = read_current(fake_bot.settings.index_dir)
    make(small_corpus / name)
    report = fake_bot.ingest([small_corpus])
    skipped = dict(report.skipped)
    assert list(skipped) == [str(small_corpus / name)]
    assert reason in skipped[str(small_corpus / name)] and "\n" not in skipped[str(small_corpus / name)]
    assert report.documents == 2
    assert read_current(fake_bot.settings.index_dir) != before
    assert fake_bot.search("研发补助", k=1)[0].clause.doc_slug == "plan-a"


def test_a_gbk_text_and_a_real_pdf_are_indexed(small_corpus, fake_bot):
    (small_corpus / "gbk.txt").write_bytes("标题: 丙县人才公寓管理办法\n\n丙县人才公寓管理办法\n\n第一条 人才公寓租金减半。\n\n第二条 期限三年。\n\n第三条 自发布之日起施行。\n".encode("gb18030"))
    (small_corpus / "notice.pdf").write_bytes(files.pdf([["丁市关于孵化器补贴的通知", "一、对新认定的国家级孵化器给予一次性奖励50万元。"]]))
    report = fake_bot.ingest([small_corpus])
    assert report.skipped == [] and report.documents == 4
    assert fake_bot.search("人才公寓租金", k=1)[0].clause.id == "gbk#第一条"
    assert fake_bot.search("国家级孵化器奖励多少钱", k=1)[0].clause.doc_slug == "notice"


def test_a_file_that_vanishes_mid_ingest_is_reported(small_corpus, fake_bot, monkeypatch):
    import bot.ingest.build as ingest_module

    doomed = small_corpus / "doomed.txt"
    doomed.write_text("标题: 将被删除\n\n第一条 内容。\n", encoding="utf-8")
    real_load = ingest_module.load_document

    def load_after_delete(path, **kwargs):
        if Path(path) == doomed:
            os.remove(doomed)  # gone between listing the folder and reading the file
        return real_load(path, **kwargs)

    monkeypatch.setattr(ingest_module, "load_document", load_after_delete)
    report = fake_bot.ingest([small_corpus])
    assert report.documents == 2
    assert "不存在" in dict(report.skipped)[str(doomed)]


def test_an_ingest_that_fails_while_embedding_leaves_the_previous_index_serving(small_corpus, tmp_path):
    class FailingEmbeddings(CountingEmbeddings):
        def embed_documents(self, texts):
            raise RuntimeError("embedding backend died")

    index_dir = tmp_path / "idx"
    good = _bot(index_dir, CountingEmbeddings())
    good.ingest([small_corpus])
    generation = read_current(index_dir)
    (small_corpus / "new.txt").write_text("标题: 新文件\n\n第一条 新的内容需要嵌入。\n", encoding="utf-8")
    with pytest.raises(RuntimeError):
        _bot(index_dir, FailingEmbeddings()).ingest([small_corpus])
    assert read_current(index_dir) == generation
    assert sorted(p.name for p in index_dir.iterdir() if p.name.startswith("g-")) == [generation]
    assert good.search("知识产权质押融资", k=1)[0].clause.id == "plan-a#二.(三)"


def test_an_index_built_with_another_embedder_asks_to_reingest(small_corpus, fake_bot):
    fake_bot.ingest([small_corpus])
    manifest_path = fake_bot.settings.index_dir / read_current(fake_bot.settings.index_dir) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["embedder"], manifest["dimension"] = "st:BAAI/bge-small-zh-v1.5", 512
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    fresh = PolicyBot(fake_bot.settings, fake_bot.embedder)
    with pytest.raises(IndexUnavailable, match="重新运行 policybot ingest"):
        fresh.search("研发补助")


def test_searching_without_an_index_says_how_to_build_one(fake_bot):
    with pytest.raises(IndexUnavailable, match="policybot ingest"):
        fake_bot.search("研发补助")


def test_amendment_notes_mark_their_clauses(small_corpus, fake_bot):
    (small_corpus / "amendments.yaml").write_text(
        '- clause_id: "rules-b#第二条"\n  status: amended\n  by_title: 乙省技术转移条例修正案\n'
        '  by_number: 乙政发〔2025〕1号\n  by_date: "2025-01-01"\n  note: 奖励门槛调整为500万元。\n',
        encoding="utf-8",
    )
    fake_bot.ingest([small_corpus])
    view = fake_bot.view("rules-b#第二条")
    assert "乙政发〔2025〕1号" in view.status and view.editor_note.startswith("【编者注】")
    assert fake_bot.search("技术合同成交额奖励", k=1)[0].amendment.note == "奖励门槛调整为500万元。"
