"""The pages in a real browser (Debian's Chromium driven by Playwright) against the whole system
as real processes: live progress without reload, errors, the regions viewer, a stream cut by
the server, and polling when streams are blocked. Screenshots go to tests/screenshots/."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image as PILImage
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, sync_playwright

from tests.live_stack import Stack, demo_set_id, log_in, query
from tests.live_stack import launch as launch_by_form
from webapp import ROOT
from webapp.demo.seed import DEMO_EMAIL, DEMO_PASSWORD

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "tests" / "screenshots"
ENDS = 180_000  # ms a treatment may take here
ADMIN_EMAIL = "operator@scriptorium.example"
ADMIN_PASSWORD = "operator password"
# Installed before any page script: what the page saw, whether it was reloaded.
WATCH = """
window.__opens = 0;
window.__seen = [];
document.addEventListener("htmx:sseOpen", () => { window.__opens += 1; });
document.addEventListener("DOMContentLoaded", () => {
  const note = () => document.querySelectorAll("[data-progress]").forEach((node) => {
    const value = node.dataset.progress;
    if (window.__seen[window.__seen.length - 1] !== value) window.__seen.push(value);
  });
  note();
  new MutationObserver(note).observe(document.body, { childList: true, subtree: true });
});
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Stack]:
    # Streams last two seconds: every treatment here outlives several, so pages must reconnect.
    # Every test here logs in, some twice, within a minute from one address: the login
    # limit (tested on its own) would refuse the later ones.
    stack = Stack(
        tmp_path_factory.mktemp("browser"),
        redis_url,
        LIVE_STREAM_SECONDS="2",
        LOGIN_RATE_LIMIT="1000 per minute",
    )
    stack.flask("db", "upgrade")
    stack.flask("demo", "seed", "--pages-per-witness", "2")
    stack.flask("demo", "seed", "--seed", "11", "--pages-per-witness", "1")
    stack.flask(
        "users",
        "create",
        ADMIN_EMAIL,
        "--password",
        ADMIN_PASSWORD,
        "--admin",
        "--name",
        "Operator",
    )
    stack.start()
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: run .ci/install-chromium"
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    )
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    yield from _logged_in(browser, stack, {"width": 1280, "height": 900})


def _logged_in(
    browser: Browser,
    stack: Stack,
    viewport: ViewportSize,
    email: str = DEMO_EMAIL,
    password: str = DEMO_PASSWORD,
) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport, timezone_id="Asia/Tokyo")
    context.add_init_script(WATCH)
    page = context.new_page()
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.failed_responses = failed  # type: ignore[attr-defined]
    page.goto(f"{stack.url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(re.compile(r"^(?!.*/login)"))
    yield page
    context.close()


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _set_id(stack: Stack, seed_suffix: str = "") -> int:
    rows = query(
        stack.database,
        "SELECT id FROM document_sets WHERE title LIKE ? ORDER BY id",
        f"Demo set%{seed_suffix}",
    )
    return int(rows[0 if not seed_suffix else -1][0])


def _launch(page: Page, stack: Stack, set_id: int, task: str, **fields: str) -> None:
    page.goto(f"{stack.url}/treatments/new?document_set={set_id}&task_type={task}")
    for name, value in fields.items():
        page.select_option(f"select[name='{task}-{name}']", value)
    page.click("button:has-text('Launch'), input[value='Launch']")
    page.wait_for_url(re.compile(r"/treatments/[0-9a-f-]{36}$"))
    page.evaluate("window.__marker = 'not reloaded'")


def _status(page: Page) -> str:
    return str(page.get_attribute("#state .state", "data-status"))


def _wait_until_ended(page: Page) -> str:
    page.wait_for_selector("#state .state.terminal", timeout=ENDS)
    return _status(page)


def _regions_treatment(stack: Stack) -> str:
    rows = query(
        stack.database,
        "SELECT id FROM treatments WHERE task_type = 'regions' AND status = 'SUCCESS' "
        "ORDER BY requested_at",
    )
    assert rows, "no successful regions treatment yet"
    return str(rows[0][0])


def test_a_launch_shows_its_progress_live_then_success_without_reload(
    page: Page, stack: Stack
) -> None:
    _launch(page, stack, _set_id(stack), "regions")
    _shot(page, "treatment-running")
    assert _wait_until_ended(page) == "SUCCESS"
    seen: list[str] = page.evaluate("window.__seen")
    assert page.evaluate("window.__marker") == "not reloaded"
    total = seen[-1].split("/")[1]
    intermediate = [v for v in seen if v not in {f"0/{total}", f"{total}/{total}"}]
    assert len(set(intermediate)) >= 2, seen
    assert seen[-1] == f"{total}/{total}"
    # Streams last 2 s and the treatment longer: the page was cut off and reconnected, and
    # still ends on the final state.
    assert page.evaluate("window.__opens") >= 2
    text = page.inner_text("#state")
    assert "Succeeded" in text
    assert "regions found" in text
    assert "UTC" not in page.inner_text("#state dl")  # times in the reader's zone
    _shot(page, "treatment-success")
    # After a reload the finished page shows what the live one did: state, progress, events.
    live_state, live_events = page.inner_text("#state"), page.inner_text("#events")
    page.reload()
    assert page.inner_text("#state") == live_state
    assert page.inner_text("#events") == live_events
    assert "No notification received yet" not in live_events
    assert "SUCCESS" in live_events


def test_the_regions_viewer_draws_the_boxes(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.url}/treatments/{_regions_treatment(stack)}/results")
    page.wait_for_load_state("networkidle")
    assert page.failed_responses == []  # type: ignore[attr-defined]
    boxes = page.locator(".region-box rect")
    assert boxes.count() > 0
    assert page.locator(".region-page").count() > 0
    box: Any = boxes.first.bounding_box()
    assert box["width"] > 5
    assert box["height"] > 5
    _shot(page, "regions-viewer")


def _stroke_pixels(png: bytes) -> int:
    """Pixels of the colours Mirador strokes annotations with (#00BFFF, #BF00FF when one is
    hovered or selected), blended over the page as thin lines are: nothing on a page of the
    demo is either."""
    pixels = np.asarray(PILImage.open(io.BytesIO(png)).convert("RGB"), dtype=int)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    cyan = (b - r > 60) & (g - r > 40)
    magenta = (r - g > 60) & (b - g > 60)
    return int((cyan | magenta).sum())


def test_mirador_shows_the_pages_with_the_regions_drawn_as_annotations(
    page: Page, stack: Stack
) -> None:
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    page.goto(f"{stack.url}/treatments/{_regions_treatment(stack)}/results")
    page.click(".viewer-links a >> nth=0")
    page.wait_for_url(re.compile(r"/regions/[^/]+/viewer"))
    # The annotations panel lists the regions of the page Mirador opened on.
    page.wait_for_selector("text=/\\(0\\.\\d\\d\\)/", timeout=60_000)
    canvas = page.locator("#mirador .openseadragon-canvas canvas").first
    drawn = 0
    for _ in range(60):
        drawn = _stroke_pixels(canvas.screenshot())
        if drawn > 200:
            break
        page.wait_for_timeout(500)
    assert drawn > 200, "no annotation box drawn over the page"
    assert refused == []
    assert page.failed_responses == []  # type: ignore[attr-defined]
    _shot(page, "mirador-regions")
    # A digitization's page opens the same viewer on its pages alone, with deep zoom.
    before = _stroke_pixels(canvas.screenshot())
    manifest = page.get_attribute("#mirador", "data-manifest") or ""
    ref = manifest.split("/regions/")[1].split("_anno")[0]
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(f"{stack.url}/iiif/{ref}/viewer")
    canvas = page.locator("#mirador .openseadragon-canvas canvas").first
    canvas.wait_for(timeout=60_000)
    page.wait_for_load_state("networkidle")
    assert any(url.endswith(f"/iiif/{ref}/v3/manifest.json") for url in requested)
    assert any(re.search(rf"/iiif/image/{ref}_\d{{4}}/info\.json$", url) for url in requested)
    assert before > 200
    assert _stroke_pixels(canvas.screenshot()) < 20
    _shot(page, "mirador-pages")


def test_vectorization_and_similarity_viewers(page: Page, stack: Stack) -> None:
    regions = _regions_treatment(stack)
    for task, selector in (("similarity", "tr.pair"), ("vectorization", "figure.vectorization")):
        _launch(page, stack, _set_id(stack), task, regions_treatment=regions)
        assert _wait_until_ended(page) == "SUCCESS"
        unit = "pairs" if task == "similarity" else "documents"
        assert re.search(rf"(\d+) of \1 {unit} done", page.inner_text("#state .progress"))
        page.click("a:has-text('View the results')")
        page.wait_for_load_state("networkidle")
        assert page.locator(selector).count() > 0
        # Named as people name them, the ref beside.
        assert "Demo MS" in page.inner_text(f"{selector} >> nth=0")
        assert page.failed_responses == []  # type: ignore[attr-defined]
        _shot(page, f"{task}-viewer")


def test_similarity_is_reviewed_in_place_and_grouped_into_clusters(
    page: Page, stack: Stack
) -> None:
    rows = query(
        stack.database,
        "SELECT id FROM treatments WHERE task_type = 'similarity' AND status = 'SUCCESS'",
    )
    assert rows, "no successful similarity treatment yet"
    page.goto(f"{stack.url}/treatments/{rows[0][0]}/results")
    page.evaluate("window.__marker = 'not reloaded'")
    for index, mark in ((0, "Exact match"), (1, "Similar")):
        row = page.locator("tr.pair").nth(index)
        row.locator(f"button:has-text('{mark}')").click()
        row.locator(f"button[aria-pressed=true]:has-text('{mark}')").wait_for()
        assert "Demo researcher: " + mark in row.inner_text()
    assert page.evaluate("window.__marker") == "not reloaded"
    _shot(page, "similarity-review")
    page.click("nav.tabs a:has-text('Clusters')")
    page.wait_for_selector("section.cluster")
    assert "Figure 1" in page.inner_text("section.cluster >> nth=0")
    assert page.failed_responses == []  # type: ignore[attr-defined]
    _shot(page, "similarity-clusters")


def test_regions_are_corrected_by_drawing_and_deleting(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.url}/treatments/{_regions_treatment(stack)}/results")
    page.click(".region-page figcaption a:has-text('correct') >> nth=0")
    page.wait_for_url(re.compile(r"/pages/\d+/edit$"))
    before = page.locator("[data-region]").count()
    surface: Any = page.locator("[data-surface]").bounding_box()
    # Drag a box over the top left of the page: it fills the new region's fields.
    page.mouse.move(surface["x"] + 20, surface["y"] + 20)
    page.mouse.down()
    page.mouse.move(surface["x"] + 80, surface["y"] + 70, steps=5)
    page.mouse.up()
    assert int(page.input_value("[data-new] input[name=w]")) > 10
    page.fill("[data-new] input[name=label]", "initial")
    page.click("[data-new] button[value=draw]")
    page.wait_for_selector("text=The region was added.")
    assert page.locator("[data-region]").count() == before + 1
    assert page.locator(".region-box.corrected").count() == 1
    # Select a machine region by clicking it, then delete it.
    machine = page.locator(".region-box:not(.corrected)").first
    key = machine.get_attribute("data-region")
    machine.dispatch_event("pointerdown")
    page.click(f"[data-form-for='{key}'] button[value=delete]")
    page.wait_for_selector("text=The region was deleted.")
    assert page.locator("[data-region]").count() == before
    _shot(page, "regions-correct")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Reset this page')")
    page.wait_for_selector("text=back to the machine's output")
    assert page.locator("[data-region]").count() == before
    assert page.locator(".region-box.corrected").count() == 0


def test_the_form_offers_the_regions_runs_of_the_set_chosen(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.url}/treatments/new?task_type=similarity")
    page.select_option("select[name=document_set]", str(_set_id(stack, "(seed 11)")))
    page.wait_for_selector("text=run Regions on it first")
    assert page.locator("select[name='similarity-regions_treatment'] option").count() == 0
    page.select_option("select[name=document_set]", str(_set_id(stack)))
    options = page.locator("select[name='similarity-regions_treatment'] option")
    options.first.wait_for(state="attached")
    assert options.count() >= 1
    assert "Regions of" in options.first.inner_text()


def test_an_error_shows_what_happened_and_offers_a_relaunch(page: Page, stack: Stack) -> None:
    # The second corpus's page images are gone: the processor can read none of them.
    files = query(
        stack.database,
        "SELECT pages.file FROM pages "
        "JOIN digitizations ON pages.digitization_id = digitizations.id "
        "JOIN witnesses ON digitizations.witness_id = witnesses.id WHERE witnesses.siglum LIKE ?",
        "%(seed 11)%",
    )
    assert files
    for (name,) in files:
        (Path(stack.env["STORAGE_DIR"]) / name).unlink()
    _launch(page, stack, _set_id(stack, "(seed 11)"), "regions")
    assert _wait_until_ended(page) == "ERROR"
    alert = page.inner_text("#state [role=alert]")
    assert "could be read" in alert
    assert page.locator("#state button:has-text('Relaunch')").count() == 1
    assert page.evaluate("window.__marker") == "not reloaded"
    _shot(page, "treatment-error")


def test_polling_brings_the_updates_when_streams_are_blocked(page: Page, stack: Stack) -> None:
    page.route("**/stream", lambda route: route.abort())
    _launch(page, stack, _set_id(stack), "regions")
    assert _wait_until_ended(page) == "SUCCESS"
    assert page.get_attribute("#live", "data-polling") == "true"
    assert page.evaluate("window.__marker") == "not reloaded"
    assert page.evaluate("window.__opens") == 0


def test_the_list_follows_its_treatments(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.url}/treatments/")
    page.evaluate("window.__marker = 'not reloaded'")
    page.wait_for_selector("#live[sse-connect]")
    page.wait_for_timeout(500)  # the stream is open
    # Launched in another tab: its row is added to this list, live, then follows it.
    other = page.context.new_page()
    _launch(other, stack, _set_id(stack), "regions")
    treatment_id = other.url.rsplit("/", 1)[1]
    other.close()
    row = f"#row-{treatment_id} [data-status]"
    page.wait_for_selector(row, timeout=ENDS)
    assert page.locator(f"#row-{treatment_id}").count() == 1
    page.wait_for_selector(f"{row}[data-status=SUCCESS]", timeout=ENDS)
    assert page.evaluate("window.__marker") == "not reloaded"
    _shot(page, "treatments-list")
    page.goto(f"{stack.url}/")
    page.wait_for_selector(f"{row}[data-status=SUCCESS]")
    _shot(page, "home")


@pytest.mark.parametrize("blocked", [False, True], ids=["streamed", "polled"])
def test_lists_add_and_remove_rows_as_work_starts_ends_and_goes(
    page: Page, stack: Stack, blocked: bool
) -> None:
    """In another tab: a treatment deleted, an export started; this tab's lists follow."""
    if blocked:
        page.route("**/stream", lambda route: route.abort())
    session = log_in(stack.url, DEMO_EMAIL, DEMO_PASSWORD)
    ended = launch_by_form(session, stack.url, demo_set_id(session, stack.url), "regions")
    stack.wait_for(
        lambda: stack.query("SELECT status FROM treatments WHERE id = ?", ended)[0][0] == "SUCCESS",
        "the treatment to end",
        ENDS / 1000,
    )
    page.goto(f"{stack.url}/treatments/?status=SUCCESS")
    page.evaluate("window.__marker = 'not reloaded'")
    page.wait_for_selector(f"#row-{ended}")
    page.wait_for_timeout(500)  # the stream is open, or given up for polling
    other = page.context.new_page()
    other.on("dialog", lambda dialog: dialog.accept())
    other.goto(f"{stack.url}/treatments/{ended}")
    other.click("#state button:has-text('Delete')")
    other.wait_for_url(re.compile(r"/treatments/$"))
    page.wait_for_selector(f"#row-{ended}", state="hidden", timeout=ENDS)
    assert page.evaluate("window.__marker") == "not reloaded"

    page.goto(f"{stack.url}/tasks/")
    page.evaluate("window.__marker = 'not reloaded'")
    before = page.locator("#task-rows tr[id^=task-]").count()
    page.wait_for_timeout(500)
    assert _export(other, stack, _set_id(stack))
    other.close()
    rows = page.locator("#task-rows tr[id^=task-]")
    deadline = time.monotonic() + ENDS / 1000
    while rows.count() <= before and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert rows.count() == before + 1
    # Followed to its end (which the export's status line said already in the other tab).
    ended_badge = ", ".join(
        f"#task-rows tr[id^=task-] [data-status={s}]" for s in ("SUCCESS", "ERROR", "CANCELLED")
    )
    page.wait_for_selector(ended_badge, timeout=ENDS)
    assert page.evaluate("window.__marker") == "not reloaded"
    if blocked:
        assert page.get_attribute("#live", "data-polling") == "true"


def _export(page: Page, stack: Stack, set_id: int) -> str:
    """Press the set's "Export results"; what its status line says once the task ended."""
    page.goto(f"{stack.url}/sets/{set_id}")
    page.evaluate("window.__marker = 'not reloaded'")
    page.click("#export-results button[data-export]")
    page.wait_for_selector("#export-results[data-state=ended]", timeout=ENDS)
    assert page.evaluate("window.__marker") == "not reloaded"
    return page.inner_text("#export-results [data-export-status]")


def test_a_set_is_exported_through_the_js_task_client(page: Page, stack: Stack) -> None:
    """`TaskAPI.run` on the set's page: the error of a set with no results, then the zip of
    one with results, then the same with streams blocked (polling)."""
    empty = _set_id(stack, "(seed 11)")
    said = _export(page, stack, empty)
    assert "No treatment has succeeded" in said
    page.click("#export-results [data-export-result] a")
    page.wait_for_url(re.compile(r"/tasks/[0-9a-f-]{36}$"))
    assert page.get_attribute("#task-live [data-status]", "data-status") == "ERROR"

    _regions_treatment(stack)  # the first test's regions run on the first set
    said = _export(page, stack, _set_id(stack))
    assert said.startswith("Ready:"), said + stack.log()[-6000:]
    link = page.locator("#export-results [data-export-result] a[download]")
    with page.expect_download() as download:
        link.click()
    archive = download.value.path()
    assert archive.read_bytes()[:2] == b"PK"
    _shot(page, "export-results")

    page.route("**/stream", lambda route: route.abort())
    polled: list[str] = []
    poll = re.compile(r"/api/v1/tasks/[0-9a-f-]{36}$")
    page.on("request", lambda r: polled.append(r.url) if poll.search(r.url) else None)
    assert _export(page, stack, _set_id(stack)).startswith("Ready:")
    assert polled, "the client never polled"
    page.unroute("**/stream")


def test_the_task_client_rejects_with_a_message_per_input(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.url}/sets/{_set_id(stack)}")
    refused = page.evaluate(
        """TaskAPI.run("export_results", {document_set: "x", colour: 1})
             .then(() => null, (error) => ({status: error.status, fields: error.fields}))"""
    )
    assert refused == {
        "status": 400,
        "fields": {"document_set": ["Not a valid integer."], "colour": ["Unknown field."]},
    }
    task = page.evaluate(
        f"""TaskAPI.start("export_results", {{document_set: {_set_id(stack)}}})
             .then((t) => TaskAPI.get(t.id))"""
    )
    assert task["name"] == "export_results"
    page.goto(task["page"])
    page.wait_for_selector("#task-live [data-status=SUCCESS]", timeout=ENDS)
    assert page.locator("#task-live a[download]").count() == 1
    _shot(page, "task-page")


# What sticks out past the screen's right edge, named as a reader would find it.
WIDER_THAN_THE_SCREEN = """Array.from(document.querySelectorAll("body *"))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
  .slice(0, 5)
  .map(e => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right))"""
PHONE_PAGES = [
    "/",
    "/search?q=demo",
    "/catalog/witnesses/",
    "/catalog/witnesses/1",
    "/catalog/works/",
    "/sets/",
    "/treatments/",
    "/treatments/new",
    "/tasks/",
    "/workflows/",
    "/account/password",
]


def test_every_page_fits_a_phone_and_its_menu_folds(browser: Browser, stack: Stack) -> None:
    for page in _logged_in(browser, stack, {"width": 390, "height": 844}):
        for path in [*PHONE_PAGES, f"/sets/{_set_id(stack)}"]:
            page.goto(f"{stack.url}{path}")
            page.wait_for_load_state("networkidle")
            wide = page.evaluate("document.documentElement.scrollWidth")
            wider = page.evaluate(WIDER_THAN_THE_SCREEN)
            assert wide <= 390, f"{path} is {wide} px wide at 390: {wider}"
        page.goto(f"{stack.url}/")
        menu = page.locator("#main-menu")
        assert not menu.is_visible()
        page.click(".menu-toggle")
        assert menu.is_visible()
        assert page.locator(".menu-toggle").get_attribute("aria-expanded") == "true"
        page.click(".menu-toggle")
        _shot(page, "phone-home")


ADMIN_PAGES = [
    "/admin/treatments",
    "/admin/users",
    "/admin/queues",
    "/admin/timeline",
    "/admin/sets",
]


def test_admin_pages_fit_a_phone_and_bulk_actions_choose_a_whole_page(
    browser: Browser, stack: Stack
) -> None:
    session = log_in(stack.url, DEMO_EMAIL, DEMO_PASSWORD)
    for _ in range(2):
        launch_by_form(session, stack.url, demo_set_id(session, stack.url), "regions")
    for page in _logged_in(
        browser, stack, {"width": 390, "height": 844}, ADMIN_EMAIL, ADMIN_PASSWORD
    ):
        demo = query(stack.database, "SELECT id FROM users WHERE email = ?", DEMO_EMAIL)[0][0]
        for path in [*ADMIN_PAGES, f"/admin/users/{demo}"]:
            page.goto(f"{stack.url}{path}")
            page.wait_for_load_state("networkidle")
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= 390, (
                f"{path} is {wide} px wide at 390: {page.evaluate(WIDER_THAN_THE_SCREEN)}"
            )
        _shot(page, "phone-admin-user")
    for page in _logged_in(
        browser, stack, {"width": 1280, "height": 900}, ADMIN_EMAIL, ADMIN_PASSWORD
    ):
        page.goto(f"{stack.url}/admin/treatments")
        every = page.locator("input[data-select-all=ids]")
        rows = page.locator("input[name=ids]")
        assert rows.count() >= 2
        every.check()
        assert all(rows.nth(i).is_checked() for i in range(rows.count()))
        rows.first.uncheck()
        assert every.evaluate("box => box.indeterminate")
        assert not every.is_checked()
        rows.first.check()
        assert every.is_checked()
        every.uncheck()
        assert not any(rows.nth(i).is_checked() for i in range(rows.count()))
        _shot(page, "admin-treatments")
