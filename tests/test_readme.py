"""The README's commands, run as a new user would run them."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import requests

from tests.provision import free_port
from webapp import ROOT
from webapp.services import redis_answers

STARTUP_SECONDS = 600


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


def _log_in(base: str, email: str, password: str) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert token is not None
    response = session.post(
        f"{base}/login",
        timeout=10,
        allow_redirects=False,
        data={"csrf_token": token[1], "email": email, "password": password},
    )
    assert response.status_code == 302, response.text
    return session


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
        PORT=str(port), REDIS_URL=redis_url, REDIS_PREFIX="readme", MAIL_PORT=str(free_port())
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

        session = _log_in(base, account[1], account[2])
        sets = session.get(f"{base}/sets/", timeout=10).text
        assert "Demo set" in sets
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
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert not redis_answers(redis_url), "the Redis it started must stop with it"
