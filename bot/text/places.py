"""Place names of Guizhou from one gazetteer (bot/data/guizhou_places.yaml): the province, its 9
prefecture-level divisions and its zones, in full, short and English forms.

`in_guizhou(text)` says whether a province or zone as a company writes it (贵阳市, 黔南布依族苗族自治州,
GuiZhou, 贵阳国家高新区) names a place in Guizhou; the spelling never puts a Guizhou place outside it.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from .width import compact


def _key(text: str) -> str:
    """Width, case, spaces and punctuation folded: "Gui zhou" == "GuiZhou" == "ＧＵＩＺＨＯＵ"."""
    return compact(text).lower().replace("'", "").replace("-", "")


@cache
def guizhou_names() -> tuple[str, ...]:
    """Every name of a Guizhou place, as a comparison key, longest first; read once."""
    import yaml

    raw = yaml.safe_load((resources.files("bot") / "data" / "guizhou_places.yaml").read_text(encoding="utf-8"))
    entries = [raw["province"]] + raw["prefectures"] + raw["zones"]
    names = set()
    for entry in entries:
        for name in [*(entry.get("names") or [entry.get("name")]), *entry.get("short", []), *entry.get("english", [])]:
            if name:
                names.add(_key(name))
    return tuple(sorted(names, key=len, reverse=True))


def in_guizhou(text: str | None) -> bool:
    """Whether `text` names Guizhou or a city, prefecture or zone in it."""
    if not text:
        return False
    key = _key(text)
    return any(name in key for name in guizhou_names())


@cache
def _national_zones() -> tuple[str, ...]:
    """Every name of a zone the gazetteer lists as 国家高新技术产业开发区, as a comparison key."""
    import yaml

    raw = yaml.safe_load((resources.files("bot") / "data" / "guizhou_places.yaml").read_text(encoding="utf-8"))
    national = [z for z in raw["zones"] if "国家" in z["name"]]
    return tuple(_key(n) for z in national for n in [z["name"], *z.get("short", []), *z.get("english", [])])


def national_zone(text: str | None) -> bool:
    """Whether `text` names one of Guizhou's national high-tech zones (贵阳高新区 is 贵阳国家高新区)."""
    return bool(text) and any(name in _key(text) for name in _national_zones())
