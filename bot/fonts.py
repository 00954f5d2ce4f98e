"""The one Chinese font PolicyBot draws and prints in: WenQuanYi Micro Hei, shipped by the
paperang-p2-fonts-cjk package, a default dependency (TrueType outlines, so reportlab can embed it in the
matching report's PDF, and matplotlib draws the evaluation charts with it). A fresh install thus draws
Chinese without any system font, and matplotlib's font cache, which may predate any font installed later,
is bypassed by registering the file itself at chart time.
"""

from __future__ import annotations

import functools
from pathlib import Path

# Used only when the package is missing (a hand-made environment): CJK fonts a system may have.
SYSTEM_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "WenQuanYi Zen Hei")


FONT_PACKAGE, FONT_FILE = "paperang_p2_fonts_cjk", "fonts/wqy-microhei.ttc"


def packaged_font() -> Path | None:
    """The font file installed with the package, or None when it is not installed."""
    from importlib import resources

    try:
        path = Path(str(resources.files(FONT_PACKAGE) / FONT_FILE))
    except ModuleNotFoundError:
        return None
    return path if path.is_file() else None


@functools.cache
def matplotlib_cjk_family() -> str | None:
    """Register the packaged font with matplotlib (once a process) and return its family name; a system
    CJK font's name when the package is missing; None when there is neither."""
    from matplotlib import font_manager

    path = packaged_font()
    if path is not None:
        font_manager.fontManager.addfont(str(path))
        return font_manager.get_font(str(path)).family_name
    for name in SYSTEM_CJK_FONTS:
        try:
            font_manager.findfont(font_manager.FontProperties(family=name), fallback_to_default=False)
            return name
        except ValueError:
            continue
    return None
