"""The IIIF image service on a large page: a 1,000-px rendition and a region crop, cold (the
first request, rendered from the page's pyramid) and cached (served from the rendition
cache), through the app's own route, next to Pillow decoding the whole page in the same run;
and the time the pyramid takes to make, once per page.

    python -m bench.iiif [--width 10000 --height 8000] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pyvips
from flask.testing import FlaskClient
from flask_migrate import upgrade
from PIL import Image

from webapp import ROOT, create_app
from webapp.auth.accounts import create_user
from webapp.catalog.models import Digitization, Page, Witness
from webapp.extensions import db
from webapp.pyramids import make_pyramid

REPEATS = 3


def _page_file(path: Path, width: int, height: int) -> None:
    """A scan-like JPEG: noise, so that nothing compresses or decodes unusually fast."""
    bands = [pyvips.Image.gaussnoise(width, height, mean=128, sigma=40).cast("uchar")] * 3
    bands[0].bandjoin(bands[1:]).copy(interpretation="srgb").jpegsave(str(path), Q=88)


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _median_seconds(client: FlaskClient, urls: list[str]) -> float:
    times = []
    for url in urls:
        started = time.perf_counter()
        with client.get(url) as response:
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=10_000)
    parser.add_argument("--height", type=int, default=8_000)
    parser.add_argument("--quick", action="store_true", help="a smaller page, to check it works")
    args = parser.parse_args()
    width, height = (3000, 2400) if args.quick else (args.width, args.height)
    folder = Path(tempfile.mkdtemp(prefix="iiif-bench-"))
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
            "STORAGE_DIR": str(folder / "storage"),
            "SECRET_KEY": "bench",
            "REDIS_PREFIX": f"iiifbench{uuid.uuid4().hex[:8]}",
            "RATELIMIT_STORAGE_URI": "memory://",
            "IIIF_MAX_AREA": width * height,
        }
    )
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        user = create_user("bench@example.org", "a bench password")
        witness = Witness(siglum="Bench", created_by_id=user.id)
        db.session.add(witness)
        db.session.flush()
        digitization = Digitization(witness_id=witness.id, source="img", label="big")
        db.session.add(digitization)
        db.session.flush()
        relative = f"pages/{digitization.id}/0001.jpg"
        source = folder / "storage" / relative
        source.parent.mkdir(parents=True)
        _page_file(source, width, height)
        db.session.add(
            Page(
                digitization_id=digitization.id, order=1, width=width, height=height, file=relative
            )
        )
        db.session.commit()
        ref = f"{digitization.ref}_0001"
    client = app.test_client()
    client.post("/login", data={"email": "bench@example.org", "password": "a bench password"})
    pyvips.cache_set_max(0)  # every cold render decodes from the file, as a new page would
    base = f"/iiif/image/{ref}"
    region = f"{height // 3},1200,900/max/0/default.jpg"
    # Each cold request asks for a rendition not made yet; the cached ones repeat the first.
    cases: dict[str, Callable[[int], str]] = {
        "1000-px rendition": lambda n: f"{base}/full/{1000 - n},/0/default.jpg",
        "region crop": lambda n: f"{base}/{width // 3 + n},{region}",
    }

    def pillow() -> None:
        with Image.open(source) as image:
            image.load()

    baseline = statistics.median(_timed(pillow) for _ in range(REPEATS))
    print(f"Pillow decoding the {width}x{height} page: {baseline * 1000:.0f} ms", flush=True)
    # Made once per page when it is stored (here, the page was written without one).
    made = _timed(lambda: make_pyramid(source))
    print(f"the page's pyramid, made once: {made * 1000:.0f} ms", flush=True)
    colds = []
    for name, url in cases.items():
        cold = _median_seconds(client, [url(n) for n in range(REPEATS)])
        cached = _median_seconds(client, [url(0)] * REPEATS)
        colds.append(cold)
        print(f"{name}: cold {cold * 1000:.0f} ms, cached {cached * 1000:.1f} ms", flush=True)
    print(f"slowest cold rendition / Pillow full decode: {max(colds) / baseline:.2f}x")


if __name__ == "__main__":
    main()
