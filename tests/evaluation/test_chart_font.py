"""The evaluation charts draw their Chinese in the font that comes with the Python install, on a machine
whose matplotlib has never seen a CJK font (fresh MPLCONFIGDIR, system fonts hidden)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
METRICS = {
    "retrieval_by_category": {mode: {"amount": {"recall@5": 0.8}, "eligibility": {"recall@5": 0.5},
                                     "out_of_scope": {"recall@5": 0.0}} for mode in ("hybrid", "dense", "bm25")},
    "abstention_scores": [{"id": "a", "score": 0.1, "answerable": True}, {"id": "u", "score": 0.9, "answerable": False}],
}
# Draw the charts as a fresh machine would, and report every font file the renderer opened.
SCRIPT = """
import json, sys, warnings
from pathlib import Path
warnings.filterwarnings("error", message="Glyph")  # "Glyph 21508 (...) missing from font(s) DejaVu Sans."
warnings.filterwarnings("error", message="没有找到中文字体")
from matplotlib import font_manager
from matplotlib.backends import backend_agg
# No system fonts: matplotlib sees only the DejaVu fonts it ships (no fonts-noto-cjk, whatever the machine has).
font_manager.fontManager.ttflist = [f for f in font_manager.fontManager.ttflist if "mpl-data" in f.fname]
font_manager.fontManager._findfont_cached.cache_clear()
opened = set()
get_font = backend_agg.get_font
def recording(paths, *args, **kwargs):
    opened.update([paths] if isinstance(paths, str) else paths)
    return get_font(paths, *args, **kwargs)
backend_agg.get_font = recording
from bot.evaluation.report import draw_charts
names = draw_charts(json.loads(sys.argv[1]), Path(sys.argv[2]))
print(json.dumps({"charts": names, "fonts": sorted(str(p) for p in opened)}))
"""


def test_charts_draw_chinese_in_the_packaged_font_with_a_fresh_matplotlib(tmp_path):
    env = {**os.environ, "MPLCONFIGDIR": str(tmp_path / "mpl"), "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(METRICS), str(tmp_path)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    drawn = json.loads(run.stdout.strip().splitlines()[-1])
    assert drawn["charts"] == ["recall_by_category.png", "abstention_scores.png"]
    cjk = [f for f in drawn["fonts"] if "mpl-data" not in f]
    assert cjk and all("site-packages" in f and f.endswith("wqy-microhei.ttc") for f in cjk), drawn["fonts"]
