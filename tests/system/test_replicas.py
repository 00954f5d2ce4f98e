"""Replicas on one Chroma server: two real app processes (`python app.py`) with separate, empty index
folders and a real `chroma run` on 127.0.0.1; the server is all they share."""

from __future__ import annotations

import shutil
import threading
import time

import pytest

from bot.errors import PolicyBotError
from bot.index import shared
from bot.index.store import collection_name
from bot.ingest.loaders import staging_root
from bot.service import PolicyBot
from bot.settings import Settings

from ..processes import running_chroma
from ..webapp import client, web_app
from .test_memory import TOKEN, admin_upload

pytestmark = [pytest.mark.slow, pytest.mark.server]

NEW_DOC = ("标题: 丙市数据要素流通奖励办法\n成文日期: 2025-01-10\n\n丙市数据要素流通奖励办法\n\n"
           "第一条 对在数据交易所完成数据产品挂牌交易的企业，按交易额的百分之五给予奖励，最高不超过80万元。\n")
NEW_QUESTION = "数据交易所数据产品挂牌交易的奖励"
OTHER_DOC = ("标题: 丁市首台套装备保险补偿办法\n成文日期: 2025-02-01\n\n丁市首台套装备保险补偿办法\n\n"
             "第一条 对投保首台（套）重大技术装备综合保险的企业，按保费的百分之八十给予补偿，最高不超过150万元。\n")
OTHER_QUESTION = "首台套重大技术装备综合保险的保费补偿"


def _shared_env(url: str) -> dict[str, str]:
    return {"POLICYBOT_CHROMA_URL": url, "POLICYBOT_EMBEDDER": "hash", "POLICYBOT_ADMIN_TOKEN": TOKEN,
            "POLICYBOT_RATE_LIMIT": "0"}


def test_an_upload_through_one_replica_answers_on_the_other_within_5_s(tmp_path, small_corpus):
    with running_chroma(tmp_path / "chroma") as chroma:
        env = {**_shared_env(chroma), "POLICYBOT_CORPUS_DIR": str(small_corpus)}
        with web_app(tmp_path / "index-a", tmp_path / "a.log", **env) as a, \
                web_app(tmp_path / "index-b", tmp_path / "b.log", **env) as b:
            assert not (tmp_path / "index-b" / "chroma").exists()
            ask_b = client(b)
            first = ask_b.predict("技术合同成交额奖励", api_name="/search")  # served from the server's index
            assert first["hits"][0]["clause_id"] == "rules-b#第二条"

            summary = admin_upload(a, "replica-a", "data-rewards.txt", NEW_DOC.encode())
            assert "已导入" in summary, summary

            assert "80万元" in _found_within_5_s(ask_b, NEW_QUESTION, "data-rewards")


def _found_within_5_s(app, question: str, slug: str) -> str:
    """The text of the first hit for `question` once it is a clause of `slug`; fails after 5 s."""
    started = time.monotonic()
    while True:
        hits = app.predict(question, api_name="/search")["hits"]
        if hits and hits[0]["clause_id"].startswith(slug + "#"):
            return hits[0]["text"]
        assert time.monotonic() - started < 5.0, f"{slug} not served: {[h['clause_id'] for h in hits]}"
        time.sleep(0.2)


def test_an_upload_through_one_replica_is_kept_by_an_upload_through_another(tmp_path, small_corpus):
    """Each replica has its own corpus folder: B's never holds A's upload, yet B's upload keeps it."""
    with running_chroma(tmp_path / "chroma") as chroma:
        corpora = [shutil.copytree(small_corpus, tmp_path / f"corpus-{name}") for name in "ab"]
        envs = [{**_shared_env(chroma), "POLICYBOT_CORPUS_DIR": str(corpus)} for corpus in corpora]
        with web_app(tmp_path / "index-a", tmp_path / "a.log", **envs[0]) as a, \
                web_app(tmp_path / "index-b", tmp_path / "b.log", **envs[1]) as b:
            assert "已导入" in admin_upload(a, "replica-a", "data-rewards.txt", NEW_DOC.encode())
            assert "已导入" in admin_upload(b, "replica-b", "insurance.txt", OTHER_DOC.encode())
            assert not (corpora[1] / "data-rewards.txt").exists()

            for app in (client(a), client(b)):
                assert "80万元" in _found_within_5_s(app, NEW_QUESTION, "data-rewards")
                assert "150万元" in _found_within_5_s(app, OTHER_QUESTION, "insurance")
                assert _found_within_5_s(app, "技术合同成交额奖励", "rules-b")  # the corpus stays too


def test_a_stale_copy_in_another_replicas_corpus_does_not_replace_an_upload(tmp_path, small_corpus, fake_embedder):
    """B's corpus folder holds an older file of the uploaded name: B's ingest keeps serving the upload."""
    with running_chroma(tmp_path / "chroma") as chroma:
        def bot(name: str) -> PolicyBot:
            corpus = shutil.copytree(small_corpus, tmp_path / f"corpus-{name}")
            return PolicyBot(Settings.from_env({}, index_dir=tmp_path / f"index-{name}", corpus_dir=corpus,
                                               chroma_url=chroma, embedder="hash"), fake_embedder)

        a, b = bot("a"), bot("b")
        staged = staging_root(a.settings.corpus_dir) / "1-upload" / "data-rewards.txt"  # as 文档管理 stages it
        staged.parent.mkdir(parents=True)
        staged.write_text(NEW_DOC, encoding="utf-8")
        a.ingest([staged, a.settings.corpus_dir])
        (b.settings.corpus_dir / "data-rewards.txt").write_text(NEW_DOC.replace("80万元", "10万元"), encoding="utf-8")

        report = b.ingest()  # `policybot ingest` on B: its own corpus folder

        hit = b.search(NEW_QUESTION, k=1)[0]
        assert hit.clause.doc_slug == "data-rewards" and "80万元" in hit.clause.text
        assert any(w.startswith("data-rewards.txt：") and "已上传的版本" in w for w in report.warnings), report.warnings
        assert str(b.settings.index_dir) not in report.summary()


def test_a_replica_started_on_an_empty_folder_serves_what_the_server_holds(tmp_path, small_corpus, fake_embedder):
    with running_chroma(tmp_path / "chroma") as chroma:
        settings = Settings.from_env({}, index_dir=tmp_path / "builder", chroma_url=chroma, embedder="hash")
        PolicyBot(settings, fake_embedder).ingest([small_corpus])
        env = {**_shared_env(chroma), "POLICYBOT_CORPUS_DIR": str(tmp_path / "no-corpus-here")}
        with web_app(tmp_path / "empty", tmp_path / "c.log", **env) as c:
            hits = client(c).predict("知识产权质押融资贴息", api_name="/search")["hits"]
            assert hits[0]["clause_id"] == "plan-a#二.(三)"
            assert "已建立索引" not in (tmp_path / "c.log").read_text(encoding="utf-8")  # nothing built here


def test_two_ingests_at_once_cannot_both_win(tmp_path, small_corpus, fake_embedder, monkeypatch):
    with running_chroma(tmp_path / "chroma") as chroma:
        bots = [PolicyBot(Settings.from_env({}, index_dir=tmp_path / f"r{i}", chroma_url=chroma, embedder="hash"),
                          fake_embedder) for i in range(2)]
        start = threading.Barrier(2)
        outcomes: list = [None, None]

        def ingest(i: int) -> None:
            start.wait()
            try:
                outcomes[i] = bots[i].ingest([small_corpus]).generation
            except PolicyBotError as exc:
                outcomes[i] = exc

        threads = [threading.Thread(target=ingest, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        won = [o for o in outcomes if isinstance(o, str)]
        lost = [o for o in outcomes if isinstance(o, PolicyBotError)]
        assert len(won) == 1 and len(lost) == 1, outcomes
        assert "另一个导入正在进行" in str(lost[0]) and "\n" not in str(lost[0])
        server = shared.Shared(bots[0].settings)
        assert server.current() == won[0]
        for bot in bots:  # both replicas serve the winner
            assert bot.index.generation == won[0]


def test_a_generation_a_replica_still_serves_is_kept_until_it_has_been_idle(tmp_path, small_corpus, fake_embedder,
                                                                            monkeypatch):
    import chromadb

    with running_chroma(tmp_path / "chroma") as chroma:
        def bot(name: str) -> PolicyBot:
            return PolicyBot(Settings.from_env({}, index_dir=tmp_path / name, chroma_url=chroma, embedder="hash"),
                             fake_embedder)

        builder, old_reader = bot("builder"), bot("reader")
        first = builder.ingest([small_corpus]).generation
        assert old_reader.index.generation == first  # reports that it serves `first`
        builder.ingest([small_corpus])
        builder.ingest([small_corpus])  # `first` is now two generations back, but still reported in use

        port = int(chroma.rsplit(":", 1)[1])
        names = {c.name for c in chromadb.HttpClient(host="127.0.0.1", port=port).list_collections()}
        assert collection_name(first) in names

        monkeypatch.setattr(shared, "IDLE_SECONDS", 0.0)  # as if the reader had been gone a while
        builder.ingest([small_corpus])
        names = {c.name for c in chromadb.HttpClient(host="127.0.0.1", port=port).list_collections()}
        assert collection_name(first) not in names and collection_name(first) + shared.FILES_SUFFIX not in names
