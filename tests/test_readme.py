import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setup_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1)
    return [line for line in first_block.splitlines() if line and not line.startswith("#")]


def test_readme_first_block_has_exactly_the_run_and_test_commands():
    run, test = _setup_commands()
    assert "pip install -e ." in run and "python app.py" in run
    assert "pytest" in test and "torch==2.13.0" in test


def test_ci_runs_the_readmes_test_command_verbatim():
    _, test = _setup_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci.splitlines()
    assert ci.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in ci
