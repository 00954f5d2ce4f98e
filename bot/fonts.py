"""The Chinese font the evaluation charts are drawn in: Noto Sans SC (SIL Open Font License), shipped by
the pylopdf-fonts-zh-cn package, a default dependency. A fresh install thus draws Chinese without any
system font, and matplotlib's font cache, which may predate any font installed later, is bypassed by
registering the file itself at chart time.
"""

from __future__ import annotations

import functools
from pathlib import Path

# Used only when the package is missing (a hand-made environment): CJK fonts a system may have.
SYSTEM_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Source Han Sans SC", "WenQuanYi Zen Hei")


def packaged_font() -> Path | None:
    """The Noto Sans SC file installed with the package, or None when it is not installed."""
    try:
        from pylopdf_fonts_zh_cn import sans_path
    except ImportError:
        return None
    path = Path(sans_path())
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
