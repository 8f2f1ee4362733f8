"""The test run's own services: what a contributor without a running server gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import provision


def test_a_postgres_is_started_from_the_system_binaries() -> None:
    started = provision.start_postgres()
    try:
        assert provision.postgres_answers(started.url)
        database = provision.create_database(started.url, "scratch")
        assert provision.postgres_answers(database)
        provision.drop_database(started.url, "scratch")
    finally:
        started.stop()
    assert not provision.postgres_answers(started.url)
    assert started.workdir is not None
    assert not started.workdir.exists()


def test_a_named_postgres_that_does_not_answer_fails_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = f"postgresql+psycopg://postgres@127.0.0.1:{provision.free_port()}/postgres"
    monkeypatch.setenv("TEST_POSTGRES_URL", dead)
    with pytest.raises(provision.ServiceUnavailable, match="does not answer"):
        provision.postgres_server()
    monkeypatch.setenv("TEST_REDIS_URL", f"redis://127.0.0.1:{provision.free_port()}/0")
    with pytest.raises(provision.ServiceUnavailable, match="does not answer"):
        provision.redis_server(tmp_path)
