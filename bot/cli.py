"""`policybot`: ingest, search, show, eval. Errors meant for the user become one line on stderr.

The parser and the error handling live here; what each command does is bot/commands.py.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date
from pathlib import Path
from typing import Sequence

from bot.commands import COMMANDS
from bot.errors import ConfigError, PolicyBotError
from bot.records import MAX_K
from bot.settings import MODES, Settings

EPILOG = """示例 / examples:
  policybot ingest                                   # (re)build the index from corpus/
  policybot search "科技成果转化项目最多支持多少钱" -k 5
  policybot search "实施条例第九十五条" --json
  policybot search --questions eval/questions.jsonl --json > hits.jsonl
  policybot ask "外籍专家63岁还能办工作许可吗"
  policybot ask --questions eval/questions.jsonl --json > answers.jsonl
  policybot match --profile eval/profiles/guiyang-software-hightech.yaml
  policybot match --profile p.yaml --report out.pdf   # the verdicts as a printable report
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
    p.add_argument("-k", type=int, default=5, help="how many clauses the answer considers and lists (default 5)")
    p.add_argument("--json", action="store_true", help="machine-readable output (DESIGN.md)")
    p.add_argument("--questions", type=Path, help="JSONL question set: one JSON answer per line")
    p.add_argument("--llm", action="store_true", help="answer with the configured LLM endpoint (POLICYBOT_LLM_*)")
    _common(p)

    p = sub.add_parser("match", help="which policies an enterprise profile qualifies for, condition by condition")
    p.add_argument("--profile", type=Path, required=True, help="enterprise profile, YAML or JSON (see eval/profiles/)")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="judge on this day (default: the profile's as_of, else today)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--report", type=Path, help="also write a take-home report: out.pdf (A4) or out.docx")
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
        epilog="examples:\n  policybot eval --out eval/reports/today --compare eval/reports/last-week\n"
               "  policybot eval --questions eval/questions.jsonl eval/blind/*.jsonl",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--questions", type=Path, nargs="+", action="extend", metavar="FILE.jsonl",
                   help="question sets, e.g. eval/questions.jsonl eval/blind/*.jsonl (default eval/questions.jsonl); "
                        "several: one column each, blind ones (eval/blind/) also pooled")
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


def check_args(args: argparse.Namespace) -> None:
    """Flag values refused before any index or model is loaded."""
    k = getattr(args, "k", None)
    if k is not None and not 1 <= k <= MAX_K:
        raise ConfigError(f"-k 应为正整数（1 到 {MAX_K}），实际为 {k}")
    if getattr(args, "port", None) is not None:
        check_port(args.port)
    if getattr(args, "as_of", None) is not None:
        args.as_of = check_day(args.as_of, "--as-of")


def check_day(text: str, flag: str) -> date:
    """A calendar day written YYYY-MM-DD, else a one-line ConfigError naming the flag."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise ConfigError(f"{flag} 应为有效日期，格式 YYYY-MM-DD（如 2028-01-01），收到 {one_line(text)!r}")


def check_port(port: int) -> None:
    """A TCP port the server can announce and listen on: 0 would pick a random one, above 65535 none."""
    if not 1 <= port <= 65535:
        raise ConfigError(f"端口应在 1 到 65535 之间，实际为 {port}")


def one_line(message: str) -> str:
    """A message as one line: a file name may carry a newline or a terminal escape sequence."""
    return "".join(ch if ch.isprintable() else " " if ch in "\n\r\t" else repr(ch)[1:-1] for ch in message)


if __name__ == "__main__":
    sys.exit(main())
