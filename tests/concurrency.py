"""Real concurrency for race tests: writers in threads of their own, released together."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask

from webapp.extensions import db


def race(app: Flask, *writers: Callable[[], object]) -> None:
    """Run each writer in its own thread, with its own session, released at the same time."""
    barrier = threading.Barrier(len(writers))
    errors: list[BaseException] = []

    def run(writer: Callable[[], object]) -> None:
        with app.app_context():
            try:
                barrier.wait()
                writer()
            except BaseException as exc:  # a writer that fails must fail the test
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(w,)) for w in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
