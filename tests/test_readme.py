"""The README's commands, run as a new user would run them."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import requests

from tests.live_stack import demo_set_id, launch, log_in, query
from tests.provision import free_port
from webapp import ROOT
from webapp.redis_server import redis_answers

STARTUP_SECONDS = 600
TREATMENT_SECONDS = 300


def readme_commands() -> dict[str, str]:
    """The fenced commands under the README's 'Run it' and 'Test it' headings."""
    text = (ROOT / "README.md").read_text()
    found = dict(re.findall(r"^### (Run|Test) it\n+```sh\n(.+?)\n```", text, re.M | re.S))
    assert set(found) == {"Run", "Test"}, "the README must start with its two commands"
    return {name.lower(): command for name, command in found.items()}


def test_ci_runs_the_readmes_test_command() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert readme_commands()["test"] in script


def _copy_of_the_repository(target: Path) -> None:
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source = ROOT / name.decode()
        if source.is_file():
            destination = target / name.decode()
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(source.read_bytes())


def test_the_run_command_starts_a_working_app(tmp_path: Path) -> None:
    _copy_of_the_repository(tmp_path)
    port, redis_port = free_port(), free_port()
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "SECRET_KEY", "RQ_", "REDIS", "VIRTUAL_ENV"))
    }
    env.update(
        PORT=str(port),
        REDIS_URL=redis_url,
        REDIS_PREFIX="readme",
        MAIL_PORT=str(free_port()),
        API_URL=f"http://127.0.0.1:{free_port()}",
    )
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["bash", "-c", readme_commands()["run"]],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if requests.get(f"{base}/login", timeout=5).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass  # not listening yet, or its workers are still booting
            time.sleep(1)
        output = log_path.read_text(errors="replace")
        assert process.poll() is None, output[-3000:]
        assert f"starting at {base}/login" in output
        account = re.search(r"Log in as (\S+) with the password (\S+)", output)
        assert account is not None, output[-3000:]

        session = log_in(base, account[1], account[2])
        set_id = demo_set_id(session, base)
        witnesses = session.get(f"{base}/catalog/witnesses/", timeout=10).text
        assert witnesses.count("Demo MS") >= 4
        ref = re.search(
            r"/iiif/(wit\d+_img\d+)/manifest\.json",
            session.get(f"{base}/catalog/witnesses/1", timeout=10).text,
        )
        assert ref is not None
        manifest = requests.get(f"{base}/iiif/{ref[1]}/manifest.json", timeout=10).json()
        assert len(manifest["sequences"][0]["canvases"]) == 11
        assert redis_answers(redis_url)

        # What a new user does next: regions on the demo set, through the processor it started.
        launched = time.monotonic()
        treatment = launch(session, base, set_id, "regions")
        database = tmp_path / "instance" / "scriptorium.db"

        def ended() -> bool:
            rows = query(database, "SELECT status FROM treatments WHERE id = ?", treatment)
            return rows[0][0] in {"SUCCESS", "ERROR", "CANCELLED"}

        while not ended():
            assert time.monotonic() - launched < TREATMENT_SECONDS, log_path.read_text()[-3000:]
            time.sleep(1)
        status, error = query(
            database, "SELECT status, error FROM treatments WHERE id = ?", treatment
        )[0]
        assert status == "SUCCESS", error
        [(regions,)] = query(database, "SELECT count(*) FROM regions")
        assert regions >= 40
        print(f"regions on the demo set: {regions} regions in {time.monotonic() - launched:.0f} s")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert not redis_answers(redis_url), "the Redis it started must stop with it"
