"""The PolicyBot web app: `python app.py [--host 127.0.0.1] [--port 7860]`.

Thin on purpose: settings are read once here, the index is built from corpus/ if missing
(POLICYBOT_INDEX_DIR chooses where), and bot.web.server.serve does the rest: the UI at /, the endpoints at /api/.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from bot.cli import check_port, one_line
from bot.errors import PolicyBotError


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="PolicyBot web app (Gradio)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        from bot.ingest.build import check_index_dir
        from bot.web.server import serve
        from bot.settings import Settings

        check_port(args.port)
        settings = Settings.from_env()
        check_index_dir(settings.index_dir)
        serve(settings, args.host, args.port)
    except PolicyBotError as exc:
        print(f"错误：{one_line(str(exc))}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
