"""`policybot`: ingest, search, show, eval. Errors meant for the user become one line on stderr."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Sequence

from bot.errors import ConfigError, PolicyBotError
from bot.settings import MODES, Settings

EPILOG = """示例 / examples:
  policybot ingest                                   # (re)build the index from corpus/
  policybot search "科技成果转化项目最多支持多少钱" -k 5
  policybot search "实施条例第九十五条" --json
  policybot search --questions eval/questions.jsonl --json > hits.jsonl
  policybot ask "外籍专家63岁还能办工作许可吗"
  policybot ask --questions eval/questions.jsonl --json > answers.jsonl
  policybot match --profile eval/profiles/guiyang-software-hightech.yaml
  policybot show "guizhou-hitech-zones-plan-2021#四.(八)"
  policybot eval --retrieval-only
"""


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index-dir", type=Path, help="index folder (default index/, env POLICYBOT_INDEX_DIR)")
    parser.add_argument("--chroma-url", help="use a Chroma server, e.g. http://127.0.0.1:8000 (env POLICYBOT_CHROMA_URL)")
    parser.add_argument("--embedder", help="e5-small (default) or st:<model-name-or-path> (env POLICYBOT_EMBEDDER)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policybot",
        description="PolicyBot: clause-level search over Guizhou high-tech zone policy texts.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="(re)build the index from files or folders (default corpus/)")
    p.add_argument("paths", nargs="*", type=Path, help="files or folders (.txt .md .pdf .html .docx)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _common(p)

    p = sub.add_parser("search", help="search clauses; prints the best k")
    p.add_argument("query", nargs="?", help="the question, in your own words")
    p.add_argument("-k", type=int, default=5, help="how many clauses (default 5)")
    p.add_argument("--mode", choices=MODES, default="hybrid")
    p.add_argument("--json", action="store_true", help="machine-readable output (DESIGN.md)")
    p.add_argument("--questions", type=Path, help="JSONL question set: one JSON result per line")
    _common(p)

    p = sub.add_parser("ask", help="answer a question with quoted, cited clauses (or an honest no-basis)")
    p.add_argument("question", nargs="?", help="the question, in your own words")
    p.add_argument("-k", type=int, default=5, help="how many clauses to retrieve (default 5)")
    p.add_argument("--json", action="store_true", help="machine-readable output (DESIGN.md)")
    p.add_argument("--questions", type=Path, help="JSONL question set: one JSON answer per line")
    p.add_argument("--llm", action="store_true", help="answer with the configured LLM endpoint (POLICYBOT_LLM_*)")
    _common(p)

    p = sub.add_parser("match", help="which policies an enterprise profile qualifies for, condition by condition")
    p.add_argument("--profile", type=Path, required=True, help="enterprise profile, YAML or JSON (see eval/profiles/)")
    p.add_argument("--json", action="store_true")
    _common(p)

    p = sub.add_parser("serve", help="start the web app (builds the index from corpus/ if missing)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    _common(p)

    p = sub.add_parser("show", help="show one clause whole, with its citation line")
    p.add_argument("clause_id", help='e.g. "guizhou-hitech-zones-plan-2021#四.(八)"')
    p.add_argument("--json", action="store_true")
    _common(p)

    p = sub.add_parser(
        "eval", help="evaluate on a question set; --out DIR writes report.md, metrics.json and charts",
        description="Retrieval, answer and matching metrics on a question set, overall and per category.",
        epilog="example: policybot eval --out eval/reports/today --compare eval/reports/last-week",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--questions", type=Path, default=Path("eval/questions.jsonl"))
    p.add_argument("--mode", default=",".join(MODES), help="retriever modes, comma-separated (default hybrid,dense,bm25)")
    p.add_argument("--retrieval-only", action="store_true", help="only retrieval metrics")
    p.add_argument("--llm", action="store_true", help="answer with the configured LLM endpoint (POLICYBOT_LLM_*)")
    p.add_argument("--out", type=Path, help="write report.md, metrics.json and PNG charts into this folder")
    p.add_argument("--compare", type=Path, metavar="OLD_DIR", help="an earlier --out folder: flag metrics that fell (▼)")
    p.add_argument("--system", type=Path, metavar="FILE.jsonl", help="score another system's `ask --json` lines instead")
    p.add_argument("--profiles", type=Path, default=Path("eval/profiles"), help="profiles for matching accuracy")
    p.add_argument("--expected", type=Path, default=Path("eval/profile_verdicts.yaml"), help="their expected verdicts")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print metrics.json to stdout")
    _common(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    tolerant_output()
    args = build_parser().parse_args(argv)
    try:
        check_args(args)
        settings = Settings.from_env(index_dir=args.index_dir, chroma_url=args.chroma_url, embedder=args.embedder)
        from bot.ingest.build import check_index_dir  # imported here so `--help` stays instant
        from bot.service import build_bot

        check_index_dir(settings.index_dir)

        bot = build_bot(settings)
        return COMMANDS[args.command](bot, args)
    except PolicyBotError as exc:
        print(f"错误：{one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `policybot … | head`: the reader left, nothing is wrong
        sys.stderr.close()
        return 0


def tolerant_output() -> None:
    """Printing never fails on a character the output encoding lacks (PYTHONIOENCODING=ascii, a C
    locale): it is written as a \\u escape instead of ending the command with a traceback."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


MAX_K = 50  # as the web's search box


def check_args(args: argparse.Namespace) -> None:
    """Flag values refused before any index or model is loaded."""
    k = getattr(args, "k", None)
    if k is not None and not 1 <= k <= MAX_K:
        raise ConfigError(f"-k 应为正整数（1 到 {MAX_K}），实际为 {k}")
    if getattr(args, "port", None) is not None:
        check_port(args.port)


def check_port(port: int) -> None:
    """A TCP port the server can announce and listen on: 0 would pick a random one, above 65535 none."""
    if not 1 <= port <= 65535:
        raise ConfigError(f"端口应在 1 到 65535 之间，实际为 {port}")


def one_line(message: str) -> str:
    """A message as one line: a file name may carry a newline or a terminal escape sequence."""
    return "".join(ch if ch.isprintable() else " " if ch in "\n\r\t" else repr(ch)[1:-1] for ch in message)


MAX_QUESTION_SET_BYTES = 20 * 1024 * 1024  # ~100k questions; more is a mistake, not a question set


def _questions(path: Path) -> list:
    """A question set, refused by size before it is read."""
    from bot.errors import QuestionSetError
    from bot.evaluation.metrics import load_questions

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
    c = hit.clause
    out = {
        "clause_id": c.id,
        "doc_title": hit.doc_title,
        "path": c.path,
        "heading": c.heading,
        "text": c.text,
        "score": hit.score,
        "citation": bot.citation(c),
        "responsible_units": list(c.responsible_units),
        "status": hit.amendment.status if hit.amendment else "in_force",
    }
    if hit.amendment:
        out["editor_note"] = hit.amendment.note
    return out


def _search_json(bot, query: str, k: int, mode: str) -> dict:
    started = time.perf_counter()
    hits = bot.search(query, k, mode)
    took = (time.perf_counter() - started) * 1000
    return {"query": query, "took_ms": round(took, 1), "hits": [hit_json(bot, h) for h in hits]}


def cmd_search(bot, args) -> int:
    from bot.answering.pipeline import check_query

    if args.questions:
        for q in _questions(args.questions):
            row = _in_set(q, lambda: _search_json(bot, check_query(q.question), args.k, args.mode))
            print(json.dumps({"id": q.id, **row}, ensure_ascii=False))
        return 0
    query = check_query(args.query)
    if not query:
        raise PolicyBotError("请输入要检索的问题，例如：policybot search \"研发费用加计扣除\"")
    if args.json:
        print(json.dumps(_search_json(bot, query, args.k, args.mode), ensure_ascii=False))
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


def answer_json(bot, query: str, use_llm: bool) -> dict:
    started = time.perf_counter()
    answer = bot.ask(query, use_llm=use_llm)
    took = (time.perf_counter() - started) * 1000
    return {
        "query": query,
        "took_ms": round(took, 1),
        "hits": [hit_json(bot, h) for h in answer.hits],
        "answer": answer.text,
        "abstained": answer.abstained,
        "citations": [
            {"clause_id": c.clause_id, "doc_title": c.doc_title, "path": c.path, "quote": c.quote, "citation": c.citation}
            for c in answer.citations
        ],
        "answerer": answer.answerer,
    }


def cmd_ask(bot, args) -> int:
    if args.questions:
        for q in _questions(args.questions):
            row = _in_set(q, lambda: answer_json(bot, q.question, args.llm))
            print(json.dumps({"id": q.id, **row}, ensure_ascii=False))
        return 0
    if args.json:
        print(json.dumps(answer_json(bot, args.question or "", args.llm), ensure_ascii=False))
        return 0
    print(bot.ask(args.question or "", use_llm=args.llm).text)
    return 0


def cmd_match(bot, args) -> int:
    from dataclasses import asdict

    from bot.matching.profile import load_profile
    from bot.matching.render import format_verdict

    verdicts = bot.match(load_profile(args.profile))
    for refused in bot.rule_set().refused:
        print(f"注意：{one_line(refused)}", file=sys.stderr)
    if args.json:
        rows = [{**asdict(v), "status_label": v.status_label, "citation_lines": [bot.cite(c) for c in v.citations]} for v in verdicts]
        print(json.dumps({"profile": str(args.profile), "verdicts": rows}, ensure_ascii=False, default=str))
        return 0
    order = {"eligible": 0, "needs_info": 1, "not_eligible": 2}
    for v in sorted(verdicts, key=lambda v: order[v.status]):
        print(format_verdict(v, cite=bot.cite))
        print()
    return 0


def cmd_serve(bot, args) -> int:
    from bot.web.server import serve

    serve(bot.settings, args.host, args.port)
    return 0


def _excerpt(text: str, size: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[:size] + "…"


def cmd_show(bot, args) -> int:
    view = bot.view(args.clause_id)
    c = view.clause
    if args.json:
        print(
            json.dumps(
                {
                    "clause_id": c.id,
                    "doc_title": view.doc_title,
                    "path": c.path,
                    "heading": c.heading,
                    "parents": list(c.parents),
                    "text": c.text,
                    "citation": view.citation,
                    "responsible_units": list(c.responsible_units),
                    "status": view.status,
                    "editor_note": view.editor_note,
                },
                ensure_ascii=False,
            )
        )
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


def cmd_eval(bot, args) -> int:
    from bot.evaluation.run import count_steps, evaluate_matching, run_bot, run_system
    from bot.evaluation.metrics import answer_table, compare, compare_table, retrieval_table

    modes = [m.strip() for m in args.mode.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise PolicyBotError(f"--mode 无效：{args.mode!r}（可用 {','.join(MODES)}，用逗号分隔）")
    questions = _questions(args.questions)
    previous = None
    if args.compare:
        from bot.evaluation.report import load_metrics

        previous = load_metrics(args.compare)
    if args.system:
        run = run_system(bot, questions, str(args.questions), args.system)
    else:
        from tqdm import tqdm

        total = count_steps(questions, modes, not args.retrieval_only)
        with tqdm(total=total, desc="评测", unit="问", file=sys.stderr, disable=True if args.quiet else None) as bar:
            run = run_bot(bot, questions, str(args.questions), modes, args.llm, not args.retrieval_only, bar.update)
    metrics = run.metrics()
    if not args.system and not args.retrieval_only and args.expected.exists() and args.profiles.is_dir():
        metrics["matching"] = evaluate_matching(bot, args.profiles, args.expected)
    if args.out:
        from bot.evaluation.report import write_report

        report = write_report(metrics, args.out, previous)
        print(f"报告已写入 {report}", file=sys.stderr)
    if args.json:
        print(json.dumps(metrics, ensure_ascii=False))
        return 0
    print(f"检索评测：{args.questions}，可回答问题 {metrics['meta']['retrieval_questions']} 个（多轮问题只用第一轮）")
    print(retrieval_table(run.retrieval))
    if "answers" in metrics:
        print()
        print(f"回答评测：{len(questions)} 个问题，{len(run.records)} 轮")
        print(answer_table(metrics["answers"], metrics["answers_by_category"]))
    if "matching" in metrics:
        print()
        print(f"政策匹配：{int(metrics['matching']['verdicts'])} 个预期结论，准确率 {metrics['matching']['accuracy']:.3f}")
    if previous is not None:
        worse = [c for c in compare(previous, metrics) if c.worse]
        print()
        print(f"与 {args.compare} 相比：{len(worse)} 项指标下降" + ("" if worse else "（无）"))
        if worse:
            print(compare_table(worse))
    return 0


COMMANDS = {"ingest": cmd_ingest, "search": cmd_search, "ask": cmd_ask, "match": cmd_match, "serve": cmd_serve, "show": cmd_show, "eval": cmd_eval}

if __name__ == "__main__":
    sys.exit(main())
