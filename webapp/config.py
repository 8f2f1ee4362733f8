"""Settings read from the environment; every variable is documented in the README."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from outbound import parse_hosts


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _secret_key(instance_path: Path) -> str:
    """Use SECRET_KEY, or one generated once and kept under instance/ for development."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _netloc_of(url: str) -> str:
    return urlsplit(url).netloc


def _hosts(name: str, default: str = "") -> list[str]:
    """A list of `host[:port]` entries, checked now so that a typo stops the start."""
    entries = _list(os.environ.get(name) or default)
    try:
        parse_hosts(entries)
    except ValueError as exc:
        raise RuntimeError(f"{name}: {exc}") from exc
    return entries


def load_config(instance_path: Path) -> dict[str, Any]:
    """Build the configuration from the environment, with development defaults."""
    instance_path.mkdir(parents=True, exist_ok=True)
    app_url = os.environ.get("APP_URL", "http://127.0.0.1:5000").rstrip("/")
    api_url = os.environ.get("API_URL", "http://127.0.0.1:5001").rstrip("/")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    redis_prefix = os.environ.get("REDIS_PREFIX", "scriptorium")
    secure_cookies = app_url.startswith("https://")
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": os.environ.get(
            "DATABASE_URL", f"sqlite:///{instance_path / 'scriptorium.db'}"
        ),
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": redis_prefix,
        "APP_URL": app_url,
        "API_URL": api_url,
        "WEBHOOK_SECRET": os.environ.get("WEBHOOK_SECRET", ""),
        "API_TOKEN": os.environ.get("API_TOKEN", ""),
        "RESULT_HOSTS": _hosts("RESULT_HOSTS", _netloc_of(api_url)),
        "ALLOWED_PRIVATE_HOSTS": _hosts("ALLOWED_PRIVATE_HOSTS"),
        "STORAGE_DIR": os.environ.get("STORAGE_DIR", str(instance_path / "storage")),
        "IIIF_PUBLIC": _flag("IIIF_PUBLIC", True),
        "IIIF_MAX_SIDE": int(os.environ.get("IIIF_MAX_SIDE", "10000")),
        "IIIF_MAX_AREA": int(float(os.environ.get("IIIF_MAX_AREA_MPX", "40")) * 1_000_000),
        "IIIF_CACHE_MB": float(os.environ.get("IIIF_CACHE_MB", "2000")),
        "IIIF_CACHE_CHECK_SECONDS": float(os.environ.get("IIIF_CACHE_CHECK_SECONDS", "30")),
        "IIIF_RENDER_RATE_LIMIT": os.environ.get("IIIF_RENDER_RATE_LIMIT", "120 per minute"),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_MB", "50")) * 1024 * 1024,
        "MAX_IMAGE_MB": int(os.environ.get("MAX_IMAGE_MB", "25")),
        "MAX_IMAGE_PIXELS": int(float(os.environ.get("MAX_IMAGE_MPX", "80")) * 1_000_000),
        "IMPORT_TIMEOUT": float(os.environ.get("IMPORT_TIMEOUT", "20")),
        "IMPORT_RETRY_DELAYS": [
            float(d) for d in _list(os.environ.get("IMPORT_RETRY_DELAYS", "10,60,300"))
        ],
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        "LOGIN_ACCOUNT_RATE_LIMIT": os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT", "5 per minute"),
        "API_TOKEN_RATE_LIMIT": os.environ.get("API_TOKEN_RATE_LIMIT", "600 per minute"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", redis_url),
        "RATELIMIT_KEY_PREFIX": f"{redis_prefix}:limits",
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "DATABASE_CHECK_AFTER_IDLE": float(os.environ.get("DATABASE_CHECK_AFTER_IDLE", "1")),
        "DATABASE_POOL_SIZE": int(os.environ.get("DATABASE_POOL_SIZE", "20")),
        "DATABASE_POOL_OVERFLOW": int(os.environ.get("DATABASE_POOL_OVERFLOW", "10")),
        "SESSION_COOKIE_SECURE": secure_cookies,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "127.0.0.1"),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "8025")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _flag("MAIL_USE_SSL", False),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "scriptorium@localhost"),
        "PAGE_SIZE": int(os.environ.get("PAGE_SIZE", "25")),
        "TASK_MODULES": _list(os.environ.get("TASK_MODULES", "regions,similarity,vectorization")),
        "BACKGROUND_TASKS": _list(
            os.environ.get(
                "BACKGROUND_TASKS", "export_results,import_manifests,import_manifest,purge"
            )
        ),
        # Test mode (what `flask flows cleanup` asks for); the test suite sets it itself.
        "TESTING": _flag("TESTING", False),
        # The bearer token a Prometheus scraper sends to /metrics; empty: no /metrics.
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", ""),
        "FLOWS": _list(
            os.environ.get(
                "FLOWS",
                "import_witness,delete_witness,delete_work,delete_series,delete_digitization,"
                "merge_witnesses,move_digitization",
            )
        ),
        # A flow renews its lease at each step; how long a second flow waits for a lock.
        "FLOW_LEASE_SECONDS": float(os.environ.get("FLOW_LEASE_SECONDS", "120")),
        "FLOW_LOCK_WAIT_SECONDS": float(os.environ.get("FLOW_LOCK_WAIT_SECONDS", "10")),
        # A running task renews its lease at each step; one silent longer died with its worker.
        "TASK_LEASE_SECONDS": float(os.environ.get("TASK_LEASE_SECONDS", "300")),
        "TASK_MAX_ATTEMPTS": int(os.environ.get("TASK_MAX_ATTEMPTS", "3")),
        "TASK_ROUTES": dict(
            pair.split("=", 1) for pair in _list(os.environ.get("TASK_ROUTES", "")) if "=" in pair
        ),
        "API_TIMEOUT": float(os.environ.get("API_TIMEOUT", "30")),
        "LAUNCH_RETRY_DELAYS": [
            float(d) for d in _list(os.environ.get("LAUNCH_RETRY_DELAYS", "2,10,30"))
        ],
        "NOTIFY_MAX_BYTES": int(os.environ.get("NOTIFY_MAX_KB", "1024")) * 1024,
        "RESULT_MAX_MB": int(os.environ.get("RESULT_MAX_MB", "200")),
        "DISPATCH_GRACE_SECONDS": float(os.environ.get("DISPATCH_GRACE_SECONDS", "60")),
        "REAPER_SILENCE_SECONDS": float(os.environ.get("REAPER_SILENCE_SECONDS", "1800")),
        "RESULTS_HORIZON_SECONDS": float(os.environ.get("RESULTS_HORIZON_SECONDS", "7200")),
        "CLOCK_INTERVAL_SECONDS": float(os.environ.get("CLOCK_INTERVAL_SECONDS", "15")),
        # Fair share (treatments/fair_share.py); 0: no limit.
        "MAX_RUNNING_PER_USER": int(os.environ.get("MAX_RUNNING_PER_USER", "4")),
        "MAX_RUNNING": int(os.environ.get("MAX_RUNNING", "0")),
        "LAUNCH_LEASE_SECONDS": float(os.environ.get("LAUNCH_LEASE_SECONDS", "40")),
        "REAPER_LOST_CHECKS": int(os.environ.get("REAPER_LOST_CHECKS", "3")),
        "SHARE_LINK_DAYS": float(os.environ.get("SHARE_LINK_DAYS", "30")),
        "MAX_RUN_HOURS": float(os.environ.get("MAX_RUN_HOURS", "48")),
        "EMAIL_LEASE_SECONDS": float(os.environ.get("EMAIL_LEASE_SECONDS", "120")),
        "EMAIL_RETRY_MAX_SECONDS": float(os.environ.get("EMAIL_RETRY_MAX_SECONDS", "3600")),
        # Callbacks: each attempt's time budget, the first retry's delay (doubling up to the
        # ceiling), and how long a receiver that keeps failing is tried.
        "CALLBACK_TIMEOUT_SECONDS": float(os.environ.get("CALLBACK_TIMEOUT_SECONDS", "10")),
        "CALLBACK_FIRST_DELAY_SECONDS": float(os.environ.get("CALLBACK_FIRST_DELAY_SECONDS", "30")),
        "CALLBACK_MAX_DELAY_SECONDS": float(os.environ.get("CALLBACK_MAX_DELAY_SECONDS", "3600")),
        "CALLBACK_RETRY_HOURS": float(os.environ.get("CALLBACK_RETRY_HOURS", "24")),
        "CALLBACK_LEASE_SECONDS": float(os.environ.get("CALLBACK_LEASE_SECONDS", "60")),
        "MODELS_TIMEOUT": float(os.environ.get("MODELS_TIMEOUT", "3")),
        "MODELS_RETRY_SECONDS": float(os.environ.get("MODELS_RETRY_SECONDS", "60")),
        "PROXY_COUNT": int(os.environ.get("PROXY_COUNT", "0")),
        "PURGE_AFTER_DAYS": float(os.environ.get("PURGE_AFTER_DAYS", "30")),
        "PURGE_INTERVAL_SECONDS": float(os.environ.get("PURGE_INTERVAL_SECONDS", "86400")),
        "LIVE_HEARTBEAT_SECONDS": float(os.environ.get("LIVE_HEARTBEAT_SECONDS", "15")),
        "LIVE_STREAM_SECONDS": float(os.environ.get("LIVE_STREAM_SECONDS", "600")),
        "LIVE_STREAMS_PER_USER": int(os.environ.get("LIVE_STREAMS_PER_USER", "20")),
    }
