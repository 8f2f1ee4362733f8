"""Keep one Procfile process running: `python -m webapp.supervise CMD …`.

Honcho stops every process when one exits; a worker or a clock that dies of an outage would
take the whole stack down with it. Under this, it is started again, after a delay that grows
while it keeps dying (1 s doubling to 30 s, back to 1 s once it has run a minute).
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from types import FrameType

log = logging.getLogger("supervise")
STEADY_SECONDS = 60.0
MAX_DELAY = 30.0


def supervise(command: list[str]) -> int:
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    delay = 1.0
    while True:
        started = time.monotonic()
        child = subprocess.Popen(command)
        code = child.wait()
        if stopping:
            return code
        if time.monotonic() - started > STEADY_SECONDS:
            delay = 1.0
        log.warning("%s exited with code %s; starting it again in %.0f s", command[0], code, delay)
        time.sleep(delay)
        if stopping:
            return code
        delay = min(delay * 2, MAX_DELAY)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    if len(sys.argv) < 2:
        sys.exit("usage: python -m webapp.supervise COMMAND [ARGUMENT …]")
    sys.exit(supervise(sys.argv[1:]))


if __name__ == "__main__":
    main()
