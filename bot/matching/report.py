"""The matching report an enterprise takes home: its facts, the date, each verdict with its conditions
(✓ met, ✘ not met, ? unknown) and the distance to a missing one, the clauses quoted with citations,
the amendment notes, and a line saying it is no legal determination.

One list of blocks (`report_blocks`) is written as an A4 PDF (reportlab, the CJK font embedded) or a
DOCX (python-docx); `policybot match --report` and the 政策匹配 tab's download both call `write_report`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot.errors import ConfigError, PolicyBotError
from bot.matching.engine import Verdict
from bot.matching.profile import EnterpriseProfile
from bot.matching.citations import Quoted, quoted
from bot.matching.render import condition_line
from bot.text.facts import fact

NOT_LEGAL = "本报告不构成法律意见或行政认定，仅依据语料库中的条款逐条对照生成；申请前请以主管部门的解释和最新文件为准。"
FORMATS = (".pdf", ".docx")
_STATUS_ORDER = {"eligible": 0, "needs_info": 1, "not_eligible": 2}
# The font is bot/fonts.py's packaged one; it has no ✗ (U+2717), so not met is ✘, as the web table shows it.
_FONT = "PolicyBotCJK"


@dataclass(frozen=True)
class Report:
    profile: EnterpriseProfile
    verdicts: tuple[Verdict, ...]
    quotes: dict[str, Quoted]  # clause id -> quote
    made_on: date


def build_report(profile: EnterpriseProfile, verdicts: Iterable[Verdict], quote: Callable[[str], Quoted],
                 made_on: date | None = None) -> Report:
    """The report's content; `quote` gives each cited clause once."""
    ordered = tuple(sorted(verdicts, key=lambda v: _STATUS_ORDER.get(v.status, 3)))
    quotes = {cid: quote(cid) for v in ordered for cid in v.citations}
    return Report(profile, ordered, quotes, made_on or date.today())


def profile_facts(profile: EnterpriseProfile) -> list[tuple[str, str]]:
    """(label, value as read, with the period it describes) for each fact the enterprise gave, nested ones
    flattened (发明专利 3件)."""
    out = []
    for key, value in profile.model_dump(exclude_none=True).items():
        if key == "talents":
            talents = profile.talents or []
            out.append((fact("talents").label, "；".join(t.describe() for t in talents) or "无"))
        elif isinstance(value, dict):
            out += [(fact(f"{key}.{part}").label, fact(f"{key}.{part}").show(v)) for part, v in value.items()
                    if v is not None]
        else:
            period = fact(key).period.split("；")[0]  # which year a figure is for: 上一纳税年度
            out.append((fact(key).label, fact(key).show(value) + (f"（{period}）" if period else "")))
    return out


def condition_text(result: Any) -> str:
    """One condition as the report shows it: the web's line, ✘ for not met, and the distance to it
    when the matcher gives one."""
    line = condition_line(result).replace("✗", "✘")
    distance = getattr(result, "distance", "") or ""
    return f"{line}（{distance}）" if distance and result.status != "met" else line


def report_blocks(report: Report) -> list[tuple[str, str]]:
    """(kind, text): title, meta, heading, item, verdict, text, condition, citation, quote, note, disclaimer."""
    name = report.profile.name or "贵企业"
    counts = {s: sum(v.status == s for v in report.verdicts) for s in _STATUS_ORDER}
    blocks = [("title", f"{name}政策匹配报告"),
              ("meta", f"生成日期：{report.made_on.isoformat()}　判断日期：{(report.profile.as_of or report.made_on).isoformat()}"),
              ("disclaimer", NOT_LEGAL),
              ("meta", (f"共 {len(report.verdicts)} 项政策：符合条件 {counts['eligible']} 项，需补充信息 "
                        f"{counts['needs_info']} 项，不符合条件 {counts['not_eligible']} 项。")),
              ("heading", "一、企业情况（由企业提供）")]
    blocks += [("item", f"{label}：{value}") for label, value in profile_facts(report.profile)] or [("item", "（未提供）")]
    blocks.append(("heading", "二、逐项匹配结果（✓ 满足　✘ 不满足　? 待补充）"))
    for n, v in enumerate(report.verdicts, 1):
        blocks.append(("verdict", f"{n}. 【{v.status_label}】{v.name}"))
        blocks.append(("text", f"支持内容：{v.benefit}"))
        if v.current_benefit:
            blocks.append(("note", f"【编者注】现行标准：{v.current_benefit}"))
        blocks += [("condition", condition_text(c)) for c in v.conditions] or [("condition", "（无附加条件）")]
        if v.missing:
            blocks.append(("text", "还需了解：" + "；".join(v.missing.values())))
        if v.amendment_note:
            blocks.append(("note", f"【编者注】所依据的条款已被后续文件修改：{v.amendment_note}"))
        blocks.append(("text", "依据条款："))
        for cid in v.citations:
            q = report.quotes[cid]
            blocks.append(("citation", q.citation))
            if q.note:
                blocks.append(("note", q.note))
            if q.text:
                blocks.append(("quote", q.text))
    blocks += [("heading", "三、说明"), ("disclaimer", NOT_LEGAL)]
    return blocks


def write_report(report: Report, path: str | Path) -> Path:
    """Write the report as .pdf or .docx (by the name's suffix)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise PolicyBotError(f"报告文件应以 .pdf 或 .docx 结尾，收到 {path.name}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        (_write_pdf if suffix == ".pdf" else _write_docx)(report_blocks(report), path)
    except OSError as exc:
        raise PolicyBotError(f"无法写入报告文件 {path.name}（{type(exc).__name__}）") from None
    return path


@functools.cache
def _font() -> str:
    """Register the CJK font with reportlab once; ConfigError naming the package when it is missing."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from bot.fonts import packaged_font

    font = packaged_font()
    if font is None:
        raise ConfigError("生成 PDF 报告需要中文字体：请安装 paperang-p2-fonts-cjk（pip install -e .）")
    pdfmetrics.registerFont(TTFont(_FONT, str(font), subfontIndex=0))
    return _FONT


def _write_pdf(blocks: Sequence[tuple[str, str]], path: Path) -> None:
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    font = _font()
    base = ParagraphStyle("pb", fontName=font, fontSize=10.5, leading=15, wordWrap="CJK")
    styles = {
        "title": ParagraphStyle("pb-title", base, fontSize=18, leading=26, alignment=1, spaceAfter=6),
        "meta": ParagraphStyle("pb-meta", base, alignment=1, textColor=colors.HexColor("#444444")),
        "heading": ParagraphStyle("pb-heading", base, fontSize=13.5, leading=20, spaceBefore=10, spaceAfter=4),
        "verdict": ParagraphStyle("pb-verdict", base, fontSize=12, leading=18, spaceBefore=9, spaceAfter=2),
        "item": ParagraphStyle("pb-item", base, leftIndent=8 * mm),
        "text": base,
        "condition": ParagraphStyle("pb-condition", base, leftIndent=6 * mm),
        "citation": ParagraphStyle("pb-citation", base, leftIndent=6 * mm, textColor=colors.HexColor("#1f3a93")),
        "quote": ParagraphStyle("pb-quote", base, fontSize=9.5, leading=14, leftIndent=10 * mm, rightIndent=4 * mm,
                                textColor=colors.HexColor("#333333"), borderPadding=2),
        "note": ParagraphStyle("pb-note", base, leftIndent=6 * mm, textColor=colors.HexColor("#92400e")),
        "disclaimer": ParagraphStyle("pb-disclaimer", base, fontSize=9.5, textColor=colors.HexColor("#92400e"),
                                     spaceBefore=4, spaceAfter=4),
    }

    def footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, f"PolicyBot 政策匹配报告　第 {doc.page} 页　本报告不构成法律意见或行政认定")
        canvas.restoreState()

    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
                            bottomMargin=20 * mm, title="政策匹配报告", author="PolicyBot")
    story: list = []
    for kind, text in blocks:
        story.append(Paragraph(escape(text).replace("\n", "<br/>"), styles[kind]))
        if kind == "title":
            story.append(Spacer(1, 2 * mm))
    doc.build(story, onFirstPage=footer, onLaterPages=footer)


def _write_docx(blocks: Sequence[tuple[str, str]], path: Path) -> None:
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt, RGBColor

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)  # A4
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(18))
    sizes = {"title": 18, "heading": 13.5, "verdict": 12, "quote": 9.5, "disclaimer": 9.5}
    for kind, text in blocks:
        paragraph = document.add_paragraph()
        run = paragraph.add_run(text)
        run.font.size = Pt(sizes.get(kind, 10.5))
        run.font.bold = kind in ("title", "heading", "verdict")
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "Microsoft YaHei")
        if kind in ("note", "disclaimer"):
            run.font.color.rgb = RGBColor(0x92, 0x40, 0x0E)
        if kind in ("condition", "citation", "item", "note"):
            paragraph.paragraph_format.left_indent = Mm(6)
        elif kind == "quote":
            paragraph.paragraph_format.left_indent = Mm(10)
        if kind in ("title", "meta"):
            paragraph.alignment = 1
    document.save(str(path))


def clause_quote(bot: Any) -> Callable[[str], Quoted]:
    """Quotes from a PolicyBot's index (citation, text, status); a clause it cannot show keeps its
    citation line alone."""

    def quote(clause_id: str) -> Quoted:
        try:
            view = bot.view(clause_id)
        except PolicyBotError:
            return Quoted(bot.cite(clause_id))
        return quoted(view.citation, view.clause.text, view.status, view.editor_note)

    return quote
