"""Finds the text of templates that escapes translation: words in the markup itself, outside
`{{ _(…) }}`, `{% trans %}` and expressions, and in the attributes people read."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import Environment

# Attributes whose values people read (or hear).
READ = {"title", "alt", "placeholder", "aria-label", "data-confirm", "label"}
# Words that are no language's: the product's name, formats, units, symbols.
UNTRANSLATED = {"Scriptorium", "IIIF", "CSV", "JSON", "SVG", "API", "UTC", "Mirador", "ID"}
WORD = re.compile(r"[^\W\d_]{2,}")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style", "code", "pre"}:
            self.skip += 1
        for name, value in attrs:
            if name in READ and value:
                self.found.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "code", "pre"} and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.found.append(data)


def _markup(source: str) -> str:
    """The template's markup with every Jinja part blanked: what is left was typed as is."""
    env = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    parts = []
    in_trans = 0
    for _, kind, value in env.lex(source):
        if kind == "block_begin":
            in_trans = -1
        if kind == "name" and in_trans == -1:
            in_trans = {"trans": 1, "pluralize": 1, "endtrans": 0}.get(value, 2)
        if kind == "data":
            parts.append("" if in_trans == 1 else value)
        elif kind in {"variable_begin", "block_begin"}:
            parts.append(" x ")  # an expression stands where an attribute value may be
    return "".join(parts)


def untranslated(path: Path) -> list[str]:
    """The texts of a template a reader would see untranslated."""
    source = path.read_text()
    parser = _Text()
    parser.feed(_markup(source))
    texts = []
    for text in parser.found:
        words = [w for w in WORD.findall(text) if w not in UNTRANSLATED and w != "x"]
        if words:
            texts.append(" ".join(text.split()))
    return texts
