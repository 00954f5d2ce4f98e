"""Prompt injection in the corpus: clause text that addresses a model rather than an enterprise.

No policy text says these; a corpus file that does (a planted web page, a doctored notice) must not
become an answer's basis. Each clause is judged once, when it is made (ingest, or the index loading):
see records.Clause.instructs, which the answerers, the LLM prompt and the verifier read.
"""

from __future__ import annotations

import re

_INSTRUCTION = re.compile(
    r"(?:忽略|无视|忘记|忘掉|不要理会|不再遵守|跳过)[^。；\n]{0,12}(?:指令|指示|规则|提示词?|设定|约束|要求)"
    r"|你现在(?:是|扮演|作为)|从现在(?:起|开始)，?你|(?:扮演|充当)[^。；\n]{0,8}(?:角色|助手|模型)"
    r"|系统提示|system\s*prompt|ignore\s+(?:all\s+|any\s+)?(?:the\s+)?(?:previous|prior|above|earlier)\s+"
    r"(?:instructions?|rules|prompts?)|disregard\s+(?:all\s+|the\s+)?(?:previous|above|prior)",
    re.IGNORECASE,
)


def carries_instructions(text: str) -> bool:
    """Whether `text` tries to instruct the model ("忽略之前的指令…", "ignore previous instructions")."""
    return bool(_INSTRUCTION.search(text))
