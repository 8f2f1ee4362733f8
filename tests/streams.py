"""Reading Server-Sent Event streams in tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from werkzeug.test import TestResponse


def _events(response: TestResponse, count: int) -> Iterator[tuple[str, str]]:
    """The next `count` events of a stream, as (name, data); comments and fields skipped."""
    chunks = iter(response.response)
    buffer: str = getattr(response, "_sse_rest", "")
    seen = 0
    while seen < count:
        while "\n\n" not in buffer:
            chunk: Any = next(chunks)
            buffer += chunk.decode() if isinstance(chunk, bytes) else str(chunk)
        block, buffer = buffer.split("\n\n", 1)
        lines = block.split("\n")
        names = [line.removeprefix("event: ") for line in lines if line.startswith("event: ")]
        if names:
            seen += 1
            yield names[0], "\n".join(line[6:] for line in lines if line.startswith("data: "))
    response._sse_rest = buffer  # type: ignore[attr-defined]


def read_events(response: TestResponse, count: int) -> list[tuple[str, str]]:
    return list(_events(response, count))
