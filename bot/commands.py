"""What each `policybot` command does, and the JSON shapes it prints (DESIGN.md).

bot/cli.py parses the arguments and turns errors into one line; each command here gets the built
PolicyBot and the parsed arguments and returns the exit code. Heavy modules are imported inside the
command that needs them, so `--help` and argument errors stay instant.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bot.errors import PolicyBotError
from bot.settings import MODES

DEFAULT_QUESTIONS = Path("eval/questions.jsonl")  # the development set, relative to the checkout
MAX_QUESTION_SET_BYTES = 20 * 1024 * 1024  # ~100k questions; more is a mistake, not a question set


def _questions(path: Path) -> list:
    """A question set, refused by size before it is read."""
    from bot.errors import QuestionSetError
    from bot.evaluation.questions import load_questions

    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # load_questions names the problem
    if size > MAX_QUESTION_SET_BYTES:
        raise QuestionSetError(f"{path}：问题集文件过大（{size // (1024 * 1024)} MB，上限 {MAX_QUESTION_SET_BYTES // (1024 * 1024)} MB）")
    return load_questions(path)


def _in_set(q, call):
    """Run `call` for question `q` of a set; a bad question is named by its id."""
    from bot.errors import QuestionError

    try:
        return call()
    except QuestionError as exc:
        raise QuestionError(f"问题集中的 {q.id}：{exc}") from None


def cmd_ingest(bot, args) -> int:
    bars: dict[str, object] = {}  # one tqdm per stage; tqdm hides itself when stderr is not a terminal

    def progress(stage: str, done: int, total: int) -> None:
        if args.quiet:
            return
        from tqdm import tqdm

        if stage not in bars:
            for bar in bars.values():
                bar.close()
            bars[stage] = tqdm(total=total, desc=stage, unit="项", file=sys.stderr, leave=False, disable=None)
        bar = bars[stage]
        bar.n = done
        bar.refresh()

    try:
        report = bot.ingest(args.paths or None, progress=progress)
    finally:
        for bar in bars.values():
            bar.close()
    print(report.summary())
    return 0


def hit_json(bot, hit) -> dict:
    """One hit as `search --json` and the /search API show it (one shape: bot/web/format.py)."""
    from bot.web.format import hit_dict

    return hit_dict(hit, bot.citation(hit.clause))


def search_json(bot, query: str, k: int, mode: str = "hybrid") -> dict:
    """What `search --json` prints and the REST /v1/search returns."""
    started = time.perf_counter()
    hits = bot.search(query, k, mode)
    took = (time.perf_counter() - started) * 1000
    return {"query": query, "took_ms": round(took, 1), "hits": [hit_json(bot, h) for h in hits]}


def cmd_search(bot, args) -> int:
    from bot.answering.pipeline import check_query

    if args.questions:
        for q in _questions(args.questions):
            row = _in_set(q, lambda: search_json(bot, check_query(q.question), args.k, args.mode))
            print(json.dumps({"id": q.id, **row}, ensure_ascii=False))
        return 0
    query = check_query(args.query)
    if not query:
        raise PolicyBotError("请输入要检索的问题，例如：policybot search \"研发费用加计扣除\"")
    if args.json:
        print(json.dumps(search_json(bot, query, args.k, args.mode), ensure_ascii=False))
        return 0
    hits = bot.search(query, args.k, args.mode)
    if not hits:
        print("没有找到相关条款。")
    for n, hit in enumerate(hits, 1):
        print(f"{n}. {bot.citation(hit.clause)}  [{hit.clause.id}]  score={hit.score:.4f}")
        print(f"   {_excerpt(hit.clause.text)}")
        if hit.amendment:
            print(f"   ⚠ {bot.view(hit.clause.id).status}")
    return 0


def answer_json(bot, query: str, use_llm: bool, k: int = 5, conversation=None) -> dict:
    """What `ask --json` prints and the REST /v1/ask returns."""
    from bot.web.format import citation_dict

    started = time.perf_counter()
    answer = bot.ask(query, conversation=conversation, use_llm=use_llm, k=k)
    took = (time.perf_counter() - started) * 1000
    return {
        "query": query,
        "took_ms": round(took, 1),
        "hits": [hit_json(bot, h) for h in answer.hits],
        "answer": answer.text,
        "lead": answer.lead,
        "abstained": answer.abstained,
        "citations": [citation_dict(c) for c in answer.citations],
        "answerer": answer.answerer,
    }


def cmd_ask(bot, args) -> int:
    if args.questions:
        from bot.answering.pipeline import Conversation

        for q in _questions(args.questions):
            conversation = Conversation()  # a line with `turns` is one conversation, one output per turn
            for turn in q.asked:
                row = _in_set(turn, lambda: answer_json(bot, turn.question, args.llm, args.k, conversation))
                print(json.dumps({"id": turn.id, **row}, ensure_ascii=False))
        return 0
    if args.json:
        print(json.dumps(answer_json(bot, args.question or "", args.llm, args.k), ensure_ascii=False))
        return 0
    print(bot.ask(args.question or "", use_llm=args.llm, k=args.k).text)
    return 0


def match_json(cite, verdicts, profile) -> dict:
    """What `match --json` prints (`profile`: the file's name) and the REST /v1/match returns (the profile
    sent); `cite` gives a clause id's citation line (the index's, or the corpus files' without one)."""
    from dataclasses import asdict

    from bot.matching.render import closest_gaps

    rows = [{**asdict(v), "status_label": v.status_label, "citation_lines": [cite(c) for c in v.citations]} for v in verdicts]
    near = [{"name": name, "distance": gaps} for name, gaps in closest_gaps(verdicts)]
    return {"profile": profile, "verdicts": rows, "closest": near}


def cmd_match(bot, args) -> int:
    from bot.cli import one_line
    from bot.matching.citations import corpus_citer
    from bot.matching.engine import match
    from bot.matching.profile import load_profile
    from bot.matching.render import CLOSEST_HEADING, closest_gaps, format_verdict

    # Rules and citation lines come from the corpus files, not the index: match needs no `ingest`.
    profile = load_profile(args.profile)
    verdicts = match(profile, bot.rules(), args.as_of)
    cite = corpus_citer(bot.settings.corpus_dir)
    for refused in bot.rule_set().refused:  # a rule file an admin broke: the others still serve
        print(f"注意：{one_line(refused)}", file=sys.stderr)
    if getattr(args, "report", None):
        _write_match_report(bot, profile, verdicts, args.report)
    if args.json:
        print(json.dumps(match_json(cite, verdicts, str(args.profile)), ensure_ascii=False, default=str))
        return 0
    order = {"eligible": 0, "needs_info": 1, "not_eligible": 2}
    for v in sorted(verdicts, key=lambda v: order[v.status]):
        print(format_verdict(v, cite=cite))
        print()
    if near := closest_gaps(verdicts):
        print("\n".join([CLOSEST_HEADING] + [f"  - {name}：{gaps}" for name, gaps in near]))
    return 0


def _write_match_report(bot, profile, verdicts, path: Path) -> None:
    """The take-home report (PDF or DOCX by suffix), quoting from the corpus files (no index needed); its
    path on stderr, so --json stays parseable."""
    from bot.matching.citations import corpus_quoter
    from bot.matching.report import build_report, write_report

    written = write_report(build_report(profile, verdicts, corpus_quoter(bot.settings.corpus_dir)), path)
    print(f"报告已写入：{written}", file=sys.stderr)


def cmd_serve(bot, args) -> int:
    from bot.web.server import serve

    serve(bot.settings, args.host, args.port)
    return 0


def _excerpt(text: str, size: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[:size] + "…"


def clause_json(view) -> dict:
    """A clause whole with its status and editor's note: what `show --json` prints and /v1/clauses/{id} returns."""
    c = view.clause
    return {
        "clause_id": c.id,
        "doc_title": view.doc_title,
        "clause_path": c.path,
        "heading": c.heading,
        "parents": list(c.parents),
        "text": c.text,
        "citation": view.citation,
        "responsible_units": list(c.responsible_units),
        "status": view.status,
        "editor_note": view.editor_note,
    }


def cmd_show(bot, args) -> int:
    view = bot.view(args.clause_id)
    c = view.clause
    if args.json:
        print(json.dumps(clause_json(view), ensure_ascii=False))
        return 0
    print(view.citation)
    print(f"状态：{view.status}")
    if view.editor_note:
        print(view.editor_note)
    if c.responsible_units:
        print("责任单位：" + "、".join(c.responsible_units))
    print()
    print(c.text)
    return 0


def _run_sets(bot, args, sets: list, modes: list[str]) -> list:
    """One EvalRun per question set, in order, under one progress bar."""
    from bot.evaluation.run import count_steps, run_bot, run_system

    if args.system:
        texts = {cid: c.text for cid, c in bot.index.store.clauses.items()} if bot.has_index() else {}
        return [run_system(questions, str(path), args.system, texts) for path, questions in sets]
    from tqdm import tqdm

    total = sum(count_steps(questions, modes, not args.retrieval_only) for _, questions in sets)
    with tqdm(total=total, desc="评测", unit="问", file=sys.stderr, disable=True if args.quiet else None) as bar:
        return [run_bot(bot, questions, str(path), modes, args.llm, not args.retrieval_only, bar.update)
                for path, questions in sets]


def cmd_eval(bot, args) -> int:
    """Several question files: each is run, the first one's metrics in full, all side by side in `by_set`."""
    from bot.evaluation.run import evaluate_matching
    from bot.evaluation.metrics import answer_table, retrieval_table
    from bot.evaluation.regressions import changes_table, metric_changes
    from bot.evaluation.sets import by_set, sets_table

    modes = [m.strip() for m in args.mode.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise PolicyBotError(f"--mode 无效：{args.mode!r}（可用 {','.join(MODES)}，用逗号分隔）")
    files = list(dict.fromkeys(args.questions or [DEFAULT_QUESTIONS]))
    sets = [(path, _questions(path)) for path in files]  # every file checked before the long run
    previous = None
    if args.compare:
        from bot.evaluation.report import load_metrics

        previous = load_metrics(args.compare)
    runs = _run_sets(bot, args, sets, modes)
    run, questions = runs[0], sets[0][1]
    metrics = run.metrics()
    if len(runs) > 1:
        metrics["meta"]["questions_files"] = [str(path) for path in files]
        metrics["by_set"] = by_set(list(zip(files, runs)))
    if not args.system and not args.retrieval_only and args.expected.exists() and args.profiles.is_dir():
        metrics["matching"] = evaluate_matching(bot.rules(), args.profiles, args.expected)
    if args.out:
        from bot.evaluation.report import write_report

        report = write_report(metrics, args.out, previous)
        print(f"报告已写入 {report}", file=sys.stderr)
    if args.json:
        print(json.dumps(metrics, ensure_ascii=False))
        return 0
    if len(runs) > 1:
        print(f"{len(runs)} 个问题集并列（盲测集：eval/blind/ 下的文件；多轮问题逐轮计分，检索只用第一轮）")
        print(sets_table(metrics["by_set"]))
    else:
        print(f"检索评测：{files[0]}，可回答问题 {metrics['meta']['retrieval_questions']} 个（多轮问题只用第一轮）")
        print(retrieval_table(run.retrieval))
        if "answers" in metrics:
            print()
            print(f"回答评测：{len(questions)} 个问题，{len(run.records)} 轮")
            print(answer_table(metrics["answers"], metrics["answers_by_category"]))
    if "matching" in metrics:
        print()
        print(f"政策匹配：{int(metrics['matching']['verdicts'])} 个预期结论，准确率 {metrics['matching']['accuracy']:.3f}")
    if previous is not None:
        worse = [c for c in metric_changes(previous, metrics) if c.worse]
        print()
        print(f"与 {args.compare} 相比：{len(worse)} 项指标下降" + ("" if worse else "（无）"))
        if worse:
            print(changes_table(worse))
    return 0


COMMANDS = {"ingest": cmd_ingest, "search": cmd_search, "ask": cmd_ask, "match": cmd_match, "serve": cmd_serve, "show": cmd_show, "eval": cmd_eval}
