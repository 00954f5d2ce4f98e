"""Text decoding: which encoding a file's bytes are in, and whether extracted text is mojibake.

Ingest and the upload checks share these, so an upload is refused exactly when ingest would refuse it.
"""

from __future__ import annotations

import re
import unicodedata

_CID = re.compile(r"\(cid:\d+\)")
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SYMBOL = re.compile(r"[\u2000-\u2bff\u3000-\u303f\uff00-\uffef×÷·°±§¥]")  # 、〔〕①—…, full-width forms
# Characters frequent in any policy text. Wrong glyph-to-code maps produce rare CJK instead.
_COMMON_CJK = set(
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产"
    "种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从"
    "业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反明看原又么利"
    "比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文"
    "总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干"
    "做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共"
    "权收证改清己美再采转更单风切打白教速花带安场车例真务具万每目至达走积示议声报斗完类八离华名确才科张信"
    "马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连"
    "断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存"
    "候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严企创"
    "策励依施税额奖补助申请评审核落服综推")


def looks_garbled(text: str, typical_cjk_share: float | None = None) -> bool:
    """Whether extracted PDF page text is mojibake rather than words.

    Fonts without a ToUnicode map (common with 公文 fonts) yield replacement characters, `(cid:NN)`
    runs, private-use or control characters, letters of unrelated scripts, or rare CJK characters;
    a page whose CJK share is far below the document's typical page is suspect too.
    """
    cids = len(_CID.findall(text))
    chars = [c for c in _CID.sub("", text) if not c.isspace() and not c.isdigit()]
    n = len(chars)
    if cids >= 3 and cids > 0.05 * (n + cids):
        return True
    if n < 4:
        return False
    cjk = [c for c in chars if CJK.match(c)]
    odd = sum(1 for c in chars if not (c.isascii() or CJK.match(c) or _SYMBOL.match(c)))
    unmapped = sum(1 for c in chars if c == "\ufffd" or unicodedata.category(c) in ("Co", "Cc"))
    if unmapped > 0.05 * n or odd > 0.2 * n:
        return True
    if len(cjk) >= 30 and sum(1 for c in cjk if c in _COMMON_CJK) < 0.2 * len(cjk):
        return True  # codes read as CJK, but not the characters real prose is made of
    return (typical_cjk_share is not None and typical_cjk_share >= 0.4 and n >= 20
            and len(cjk) / n < typical_cjk_share / 4)


def html_charset(data: bytes) -> str | None:
    """The charset a page declares in a <meta> tag within its first 4 KB, lower-cased."""
    declared = re.search(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", data[:4096], re.IGNORECASE)
    return declared.group(1).decode().lower() if declared else None


def decode_text(data: bytes, declared: str | None = None) -> tuple[str, list[str]]:
    """Text bytes decoded, with warnings: a BOM's UTF-16, else the declared charset, UTF-8 (BOM or
    not), then GB18030, which covers GBK/GB2312. ValueError (the reason, in Chinese) when the bytes
    are not text. Upload checks use it too, so an upload is refused exactly when ingest would be."""
    warnings: list[str] = []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Notepad's "Unicode"
        encodings = ["utf-16"]
    elif b"\x00" in data:
        raise ValueError("不是文本文件（含NUL字节，可能是二进制文件被改了扩展名）")
    else:
        encodings = ["utf-8-sig", "gb18030"]
        if declared in ("gb2312", "gbk", "x-gbk", "cp936"):
            encodings.insert(0, "gb18030")
        elif declared and declared not in ("utf-8", "utf8", "iso-8859-1", "windows-1252", "ascii", "us-ascii"):
            encodings.insert(0, declared)  # Latin-1 never fails, so a wrong Latin-1 label must not win
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if encoding != "gb18030" or not looks_garbled(text[:20000]):  # Big5 or random bytes pass as GB18030
            break
    else:
        text = data.decode("utf-8-sig", errors="replace")
        bad = text.count("\ufffd")
        if bad > max(1, len(text) // 1000):
            raise ValueError("不是文本文件（既不是UTF-8也不是GBK/GB18030编码的文字）")
        warnings.append(f"文件含{bad}处无效的UTF-8字节，已替换为�")
    controls = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in "\t\n\r\f\v")
    if controls > len(text) * 0.02:
        raise ValueError("不是文本文件（控制字符过多，可能是二进制文件）")
    return text, warnings
