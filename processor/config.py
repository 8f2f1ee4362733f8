"""The processor's settings, from the environment (documented in the README)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def _number(name: str, default: float) -> float:
    return float(os.environ.get(name, str(default)))


def load_config(instance_path: Path) -> dict[str, Any]:
    data_dir = Path(os.environ.get("PROCESSOR_DATA_DIR", str(instance_path / "processor")))
    data_dir.mkdir(parents=True, exist_ok=True)
    return {
        # Where clients reach this API; result URLs are made with it (DESIGN 1: named once).
        "API_URL": os.environ.get("API_URL", "http://127.0.0.1:5001").rstrip("/"),
        "WEBHOOK_SECRET": os.environ.get("WEBHOOK_SECRET", ""),
        # Callers must send it as a bearer token; without one, only loopback is served.
        "API_TOKEN": os.environ.get("API_TOKEN", ""),
        # Where the processor's web process listens (the Procfile binds it there).
        "LISTEN_HOST": os.environ.get("PROCESSOR_HOST", "127.0.0.1"),
        # Private host[:port] entries sources and notifications may reach (the outbound policy).
        "ALLOWED_PRIVATE_HOSTS": [
            entry.strip()
            for entry in os.environ.get("ALLOWED_PRIVATE_HOSTS", "").split(",")
            if entry.strip()
        ],
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "PROCESSOR_QUEUE": os.environ.get("PROCESSOR_QUEUE", "processor"),
        "SQLALCHEMY_DATABASE_URI": os.environ.get(
            "PROCESSOR_DATABASE_URL", f"sqlite:///{data_dir / 'processor.db'}"
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "DATA_DIR": str(data_dir),
        "MAX_CONTENT_LENGTH": int(_number("PROCESSOR_MAX_REQUEST_MB", 5) * 1024 * 1024),
        "MAX_DOCUMENTS": int(_number("PROCESSOR_MAX_DOCUMENTS", 1000)),
        "MAX_IMAGE_BYTES": int(_number("PROCESSOR_MAX_IMAGE_MB", 25) * 1024 * 1024),
        "MAX_JSON_BYTES": int(_number("PROCESSOR_MAX_JSON_MB", 10) * 1024 * 1024),
        "FETCH_TIMEOUT": _number("PROCESSOR_FETCH_TIMEOUT", 30),
        "FETCH_RETRY_SECONDS": _number("PROCESSOR_FETCH_RETRY_SECONDS", 300),
        # AIKON's API asks for pages at most this wide (DESIGN 6b).
        "IMAGE_SIDE": int(_number("PROCESSOR_IMAGE_SIDE", 2500)),
        "JOB_TIMEOUT": int(_number("PROCESSOR_JOB_TIMEOUT", 24 * 3600)),
        # A running job renews its lease after every image; one whose lease ran out is resumed.
        "LEASE_SECONDS": _number("PROCESSOR_LEASE_SECONDS", 120),
        "SWEEP_SECONDS": _number("PROCESSOR_SWEEP_SECONDS", 15),
        "OUTBOX_POLL_SECONDS": _number("OUTBOX_POLL_SECONDS", 0.25),
        "OUTBOX_FIRST_DELAY": _number("OUTBOX_FIRST_DELAY_SECONDS", 2),
        "OUTBOX_MAX_DELAY": _number("OUTBOX_MAX_DELAY_SECONDS", 300),
        "OUTBOX_RETRY_SECONDS": _number("OUTBOX_RETRY_SECONDS", 2 * 3600),
        "OUTBOX_TIMEOUT": _number("OUTBOX_TIMEOUT", 10),
        "OUTBOX_SENDERS": int(_number("OUTBOX_SENDERS", 8)),
    }
