"""Pop-up messages with Chinese titles: Gradio titles its toasts "Warning" and "Error" unless told
otherwise, which is English above every Chinese message."""

from __future__ import annotations

import gradio as gr

WARNING_TITLE = "提示"
ERROR_TITLE = "错误"


def warn(message: str) -> None:
    """Show `message` (already escaped for HTML) in a warning toast beside the form."""
    gr.Warning(message, title=WARNING_TITLE)


def refusal(message: str) -> gr.Error:
    """The gr.Error to raise for what a caller got wrong: a Chinese title and no traceback in the log."""
    return gr.Error(message, title=ERROR_TITLE, print_exception=False)
