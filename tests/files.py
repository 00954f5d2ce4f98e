"""Real PDF and DOCX files for tests, made with reportlab and python-docx (the [dev] extra)."""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence

CJK_FONT = "STSong-Light"  # a CID font built into reportlab: a Chinese text layer without a font file


@functools.cache
def _cjk_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


def pdf(pages: Sequence[Sequence[str]], *, title: str | None = None, encrypt: str | None = None) -> bytes:
    """An A4 PDF with a text layer: one list of lines per page. A page without lines is a scan (a
    drawn shape, no text layer); `encrypt` is a user password."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    options = {}
    if encrypt:
        from reportlab.lib import pdfencrypt

        options["encrypt"] = pdfencrypt.StandardEncryption(encrypt, ownerPassword="owner")
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pagesize=A4, **options)
    if title:
        drawing.setTitle(title)
    for lines in pages:
        if not lines:
            drawing.rect(100, 500, 300, 200, fill=1)
        drawing.setFont(_cjk_font(), 12)
        for row, line in enumerate(lines):
            drawing.drawString(60, 780 - 20 * row, line)
        drawing.showPage()
    drawing.save()
    return buffer.getvalue()


def docx(paragraphs: Sequence[str], *, table: Sequence[Sequence[str]] = (), after: Sequence[str] = (),
         title: str = "") -> bytes:
    """A DOCX: the paragraphs, then a table (rows of cell texts) and more paragraphs when given."""
    import docx as python_docx

    document = python_docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    for text in after:
        document.add_paragraph(text)
    document.core_properties.title = title
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
