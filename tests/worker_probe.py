"""Jobs that the worker test runs in real work horses."""

from __future__ import annotations

import os
import signal
import sys
import time

from sqlalchemy import func, select

from webapp.auth.models import User
from webapp.extensions import db


def count_users() -> tuple[int, int]:
    """The users the horse's own database connection sees, and the horse's pid."""
    return db.session.scalar(select(func.count(User.id))) or 0, os.getpid()


def die() -> None:
    """A job that takes its process down, as a crash in a C library or the OOM killer would."""
    os.kill(os.getpid(), signal.SIGKILL)


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def image_code_loaded() -> tuple[bool, int]:
    """Whether the processor's image code was loaded before this job began, and the pid."""
    return "processor.tasks" in sys.modules, os.getpid()
