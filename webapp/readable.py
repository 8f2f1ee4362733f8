"""Texts from a processing API as people read them: one line, no stack, no file paths.

The full text stays in the event history (for administrators) and in the log.
"""

from __future__ import annotations

import re
from typing import Any

MAX_LENGTH = 300
_EXCEPTION_LINE = re.compile(
    r"^\s*([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)):\s*(.*)$"
)
_PATH = re.compile(r"""(?<![\w:/.])(?:[A-Za-z]:)?(?:[\\/][\w.@+-]+){2,}[\\/]?""")
_STACK_LINE = re.compile(r'^\s*(File ".*", line \d+|Traceback \(most recent call last\):)')


def as_text(value: Any) -> str:
    """Any JSON value as text: a notification may carry numbers, lists or objects anywhere."""
    if value is None or (isinstance(value, str) and value.strip() in {"", "None", "null"}):
        return ""
    if isinstance(value, list):
        return "; ".join(filter(None, (as_text(v) for v in value)))
    if isinstance(value, dict):
        return "; ".join(f"{key}: {as_text(v)}" for key, v in value.items() if as_text(v))
    return str(value).strip()


def readable_error(value: Any) -> str:
    """`[ExceptionType] message` from a traceback or a raw error, paths removed."""
    text = as_text(value)
    lines = [line for line in text.splitlines() if line.strip()]
    if any(_STACK_LINE.match(line) for line in lines):
        found = [m for m in map(_EXCEPTION_LINE.match, lines) if m]
        if found:
            kind, message = found[-1].groups()
            text = f"[{kind.rsplit('.', 1)[-1]}] {message}"
        else:
            text = next((ln for ln in reversed(lines) if not _STACK_LINE.match(ln)), "")
    elif lines:
        text = lines[0] if len(lines) == 1 else "; ".join(ln.strip() for ln in lines[:3])
    text = _PATH.sub(lambda m: re.split(r"[\\/]", m.group(0).rstrip("/\\"))[-1], text).strip()
    if len(text) > MAX_LENGTH:
        text = text[: MAX_LENGTH - 1].rstrip() + "…"
    return text


def shortened(text: str, limit: int) -> str:
    """A text from outside (a manifest's label) that must fit a column: cut at a word if one
    ends late enough, and marked with "…", so that a reader sees it was cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    word = cut.rsplit(" ", 1)[0]
    return (word if len(word) > limit // 2 else cut).rstrip(" ,;:.") + "…"
