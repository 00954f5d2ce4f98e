"""The web app's upload folder: where Gradio keeps uploaded files (GRADIO_TEMP_DIR) and the 评测
tab its reports; which files the upload route handed out; and cleaning it up.

Gradio checks that a file an event names lies in its upload folder only after launch(), which a
mounted app never runs; before that it copies whatever file a client names into the folder, so a
client could read any file on the server. Here the upload route's answers are recorded
(`UploadArea.issue`) and an event may name only those (bot/web/protect.py refuses the others before
Gradio sees them); a handler opens a file only through `admitted` (inside the folder, no link) and
deletes it once read (`discard`). Files older than MAX_AGE go at the next upload, and all at start.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from bot.errors import ConfigError, UploadError

MAX_AGE = 3600.0  # seconds an uploaded file or a 评测 report is kept
EXPIRED = "文件已失效（已处理、已过期或不是通过本页面上传的），请重新选择文件"


def upload_root(settings) -> Path:
    """The app's upload folder, inside its data folder (never shared with other programs' temp files)."""
    return Path(settings.data_dir).expanduser().resolve() / "uploads"


def file_path(item: Any) -> str:
    """The path of a file as an event hands it over: a FileData dict (events without preprocessing),
    an object with .name, or a path."""
    if isinstance(item, dict):
        return str(item.get("path") or "")
    return str(item if isinstance(item, (str, os.PathLike)) else getattr(item, "name", ""))


def admitted(root: Path, item: Any) -> Path:
    """The uploaded file `item` names, or UploadError: a regular file inside `root` once every link
    is resolved, and not itself a link."""
    raw = file_path(item)
    path = Path(raw)
    real = Path(os.path.realpath(raw)) if raw else None
    if real is None or not real.is_relative_to(Path(root).resolve()) or path.is_symlink() or not real.is_file():
        raise UploadError(f"{path.name or '上传的文件'}：{EXPIRED}")
    return real


def discard(root: Path, item: Any) -> None:
    """Delete an uploaded file, and the folder Gradio made for it once empty; never outside `root`."""
    raw = file_path(item)
    if not raw:
        return
    real = Path(os.path.realpath(raw))
    root = Path(root).resolve()
    if not real.is_relative_to(root) or real == root:
        return
    real.unlink(missing_ok=True)
    if real.parent != root:
        try:
            real.parent.rmdir()
        except OSError:  # not empty, or already gone
            pass


class UploadArea:
    """The upload folder as the upload route sees it: what was handed out, what is kept, what is old.
    Used from the event loop only (bot/web/protect.py)."""

    def __init__(self, root: Path, max_age: float = MAX_AGE, clock: Callable[[], float] = time.time) -> None:
        self.root = Path(root).resolve()
        self.max_age = max_age
        self._clock = clock
        self._issued: set[str] = set()

    def reset(self) -> None:
        """Start empty: files of an earlier run are unknown to this one (and may be half-written)."""
        shutil.rmtree(self.root, ignore_errors=True)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"无法建立上传文件夹 {self.root.name}（数据目录 POLICYBOT_DATA_DIR 不可写或不是文件夹）：{exc.strerror}") from None
        self._issued.clear()

    def issue(self, paths: Iterable[str]) -> None:
        """Record files the upload route just stored."""
        for path in paths:
            real = os.path.realpath(path)
            if Path(real).is_relative_to(self.root):
                self._issued.add(real)

    def unknown(self, paths: Iterable[Any]) -> list[str]:
        """The paths among `paths` that the upload route did not hand out."""
        return [str(p) for p in paths if not isinstance(p, str) or os.path.realpath(p) not in self._issued]

    def sweep(self) -> int:
        """Delete files older than max_age (and old folders left empty); the bytes of the files kept."""
        cutoff = self._clock() - self.max_age
        kept = 0
        for folder, dirs, files in os.walk(self.root, topdown=False):
            for name in files:
                path = os.path.join(folder, name)
                try:
                    stat = os.lstat(path)
                    if stat.st_mtime < cutoff:
                        os.unlink(path)
                    else:
                        kept += stat.st_size
                except FileNotFoundError:
                    continue
            try:
                if folder != str(self.root) and os.lstat(folder).st_mtime < cutoff:
                    os.rmdir(folder)  # only when empty; a new one may be about to be filled
            except OSError:
                pass
        self._issued = {p for p in self._issued if os.path.exists(p)}
        return kept
