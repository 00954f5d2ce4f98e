"""Industries excluded from the R&D expense super-deduction (财税〔2015〕119号), from one data list
(bot/data/excluded_industries.yaml): `excluded_industry(text)` names the listed industry a company's
industry falls in, or None when it names none of them (the list is not closed, so None is not "no")."""

from __future__ import annotations

from functools import cache
from importlib import resources

from .width import compact


@cache
def _listed() -> tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]:
    """(name, names to find, names that rule it out) per listed industry; read once."""
    import yaml

    raw = yaml.safe_load((resources.files("bot") / "data" / "excluded_industries.yaml").read_text(encoding="utf-8"))
    return tuple((e["name"], tuple(compact(n) for n in [e["name"], *e.get("short", [])]),
                  tuple(compact(n) for n in e.get("unless", []))) for e in raw["industries"])


def excluded_industry(text: str | None) -> str | None:
    """The 财税〔2015〕119号 industry `text` names (烟草制造业), or None."""
    if not text:
        return None
    key = compact(text)
    for name, names, unless in _listed():
        if any(n in key for n in names) and not any(u in key for u in unless):
            return name
    return None
