"""Full-width folding: policy texts, PDFs and askers write ５０００万元, ５％ and ５,０００ as often as 5000万元.

Three strengths, for three uses:

- `fold(text)`: each character to its NFKC form when that form is one character, so the result has
  the same length and an offset in it is an offset in the original (a match found in folded text is
  quoted from the original). Full-width digits, letters, ％ ． ＋ － ～ ［ ］ and the Kangxi radicals
  PDFs emit (⼀ -> 一) fold. Kept as they are: the Chinese punctuation that sentence splitting,
  clause quoting and the structure parser rely on (，；：！？（）, the ideographic space after
  第一条　), and numbers NFKC would turn into plain digits (① ² ½ ㊀: a list mark is not a figure).
  NFKC leaves 。、《》“”【】〔〕 alone anyway.
- `figures(text)`: fold, then thousands separators dropped (5,000 and 5，000 -> 5000): what the
  number readers scan. Like the old verify.normalise, except that a Chinese comma elsewhere stays
  (verify made every ， a ,) and a list such as 2021，100 or 5，10，100 keeps its commas.
- `compact(text)`: a comparison key: everything folded, Chinese punctuation too (（含） -> (含)),
  thousands separators and whitespace dropped. For "is this wording in that clause" and "does the
  answer mention 1,000万元", never for showing.
"""

from __future__ import annotations

import re
import unicodedata

# Chinese punctuation that must survive folding (NFKC would make it ASCII).
KEPT = "，；：！？（）\u3000"
# Digits in thousands groups: 5,000 and 1，000，000; not 2021，100 nor 5，10，100 (lists).
GROUPED_DIGITS = r"(?<!\d[,，])\d{1,3}(?:[,，]\d{3})+(?!\d)(?![,，]\d)"
_GROUPED = re.compile(rf"(?<![\d.]){GROUPED_DIGITS}")
_SPACE = re.compile(r"\s+")


class _FoldTable(dict):
    """A str.translate table filled on first sight of each character (the alphabet is open)."""

    def __init__(self, kept: str) -> None:
        super().__init__()
        self.kept = frozenset(kept)

    def __missing__(self, code: int) -> int:
        char = chr(code)
        folded = unicodedata.normalize("NFKC", char)
        keep = char in self.kept or len(folded) != 1 or unicodedata.category(char) == "No"
        self[code] = code if keep else ord(folded)
        return self[code]


_FOLD = _FoldTable(KEPT)
_FOLD_ALL = _FoldTable("")


def fold(text: str) -> str:
    """Full-width forms to ASCII, same length, Chinese punctuation kept (see the module docstring)."""
    return text if text.isascii() else text.translate(_FOLD)


def figures(text: str) -> str:
    """`fold`, then thousands separators dropped: 1，000万元 -> 1000万元; 2021，100 stays (a list, not 2021100)."""
    return _ungroup(fold(text))


def compact(text: str) -> str:
    """The comparison key: every width form folded (punctuation too), no thousands separators, no whitespace."""
    folded = text if text.isascii() else text.translate(_FOLD_ALL)
    return _SPACE.sub("", _ungroup(folded))


def _ungroup(text: str) -> str:
    return _GROUPED.sub(lambda m: re.sub("[,，]", "", m.group(0)), text)
