"""The widgets in a real browser: JupyterLab + headless Chromium (Playwright) -- notebook 05's
Q-learning panel and notebook 08's monitoring dashboard.

The headless widget tests (tests/test_widgets.py) prove the wiring; this one proves that a student
sees it work: JupyterLab starts on a free loopback port, headless Chromium opens notebook 05, runs
the panel cell (it imports what it needs; the cells above it train for minutes and are checked by
nbval), presses Run, moves the epsilon slider with the mouse, presses Run again, and checks that
the learning curve (pixels of its axes) and the KPI table changed. For notebook 08 it runs the
cells up to the dashboard, moves the week slider with the keyboard and checks that the figure
and the week's KPI table are redrawn (without re-running the simulation). One JupyterLab serves
both tests. Screenshots go to the test's tmp_path and to build/test-artifacts/.

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and the ``playwright`` Python package (dev
extra); Playwright only drives that browser, nothing is downloaded. Skips, saying how to enable
it, when either is missing. Deselect with ``-m "not browser"``.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import time
from pathlib import Path

import pytest
from browser.lab import CHROMIUM, ROOT, start_lab

pytestmark = pytest.mark.browser

HOW_TO_ENABLE = ("to run the browser test: as root `apt-get install chromium` (Debian's package, "
                 "/usr/bin/chromium) and `pip install playwright` (in the dev extra); "
                 "never `playwright install`")

NOTEBOOK = "05_q_learning.ipynb"
ARTIFACTS = ROOT / "build" / "test-artifacts"
RUN_CELLS_TIMEOUT_S = 300  # the cells above notebook 08's dashboard run for ~30 s on an idle 2-core machine
PANEL_RUN_TIMEOUT_S = 180  # one panel run trains for a few seconds
TRACEBACK = "Traceback (most recent call last)"


@pytest.fixture
def sync_playwright():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found; {HOW_TO_ENABLE}")
    mod = pytest.importorskip("playwright.sync_api", reason=f"playwright not installed; {HOW_TO_ENABLE}")
    return mod.sync_playwright


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """One throwaway JupyterLab for the module's tests (each opens its own notebook and kernel)."""
    server = start_lab(tmp_path_factory.mktemp("lab"))
    yield server
    server.stop()


def _wait(page, check, timeout_s: float, what: str, on_poll=None):
    """Poll ``check()`` (truthy = done) every 0.5 s for at most ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if on_poll is not None:
            on_poll()
        value = check()
        if value:
            return value
        page.wait_for_timeout(500)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def _fail_on_traceback(page):
    """Fail at once when any cell shows a Python traceback (its text is in the message)."""
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    for i in range(errors.count()):
        text = errors.nth(i).inner_text()
        if TRACEBACK in text:
            raise AssertionError(f"a notebook cell failed:\n{text[-2000:]}")


def _curve_pixels(src: str):
    """The learning-curve axes (top-left quarter of the panel's figure, below the suptitle that
    names the settings) as an RGB array, from the ``data:image/png;base64`` source."""
    import numpy as np
    from PIL import Image

    assert src.startswith("data:image/png;base64,"), src[:60]
    img = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB")
    w, h = img.size
    return np.asarray(img.crop((0, int(0.08 * h), w // 2, h // 2)))


def _save(page, locator, tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    page.screenshot(path=str(tmp_path / f"page_{name}"), full_page=False)
    locator.screenshot(path=str(out))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for p in (out, tmp_path / f"page_{name}"):
        shutil.copy(p, ARTIFACTS / p.name)
    return out


def _in_browser(sync_playwright, lab, tmp_path: Path, drive, failure_name: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2000})
            try:
                drive(page, lab, tmp_path)
            except BaseException:
                page.screenshot(path=str(tmp_path / "failure.png"), full_page=False)
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                shutil.copy(tmp_path / "failure.png", ARTIFACTS / failure_name)
                print(f"screenshot: {tmp_path / 'failure.png'}\njupyter log:\n{lab.log_tail()}")
                raise
        finally:
            browser.close()


def test_q_learning_panel_in_chromium(sync_playwright, lab, tmp_path):
    _in_browser(sync_playwright, lab, tmp_path, _drive_panel, "notebook05_failure.png")


def test_monitoring_dashboard_in_chromium(sync_playwright, lab, tmp_path):
    _in_browser(sync_playwright, lab, tmp_path, _drive_dashboard, "notebook08_failure.png")


def _open_and_run(page, lab, notebook: str, marker: str, above: bool):
    """Open ``notebook`` in a fresh workspace (``?reset``: the other test's notebook is not restored
    beside it), wait for its kernel and run the one code cell whose source matches ``marker`` --
    after every cell above it if ``above``; return the cell's locator."""
    page.goto(lab.url(f"lab/tree/{notebook}?reset"), wait_until="domcontentloaded", timeout=60_000)
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
        timeout=90_000)
    cells = page.locator(".jp-Notebook .jp-CodeCell")
    cell = cells.filter(has=page.locator(".jp-InputArea", has_text=re.compile(marker)))
    assert cell.count() == 1, f"expected one cell matching {marker!r}, found {cell.count()}"
    cell.locator(".jp-InputPrompt").click()  # select it (command mode)
    first = "await c.execute('notebook:run-all-above'); " if above else ""
    page.evaluate(f"async () => {{ const c = window.jupyterapp.commands; {first}await c.execute('notebook:run-cell'); }}")
    return cell


def _settle(page, image, quiet_s: float = 3.0, timeout_s: float = 60.0) -> None:
    """Wait until the image has not changed for ``quiet_s`` seconds (every queued redraw has arrived)."""
    deadline = time.monotonic() + timeout_s
    last, since = image.get_attribute("src"), time.monotonic()
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        now = image.get_attribute("src") if image.count() == 1 else None
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
    raise AssertionError(f"the dashboard figure kept changing for {timeout_s:.0f} s")


def _drive_dashboard(page, lab, tmp_path: Path) -> None:
    cell = _open_and_run(page, lab, "08_the_system_in_operation.ipynb", r"TwinDashboard\(", above=True)
    out = cell.locator(".jp-Cell-outputArea")
    week = out.locator(".widget-slider").filter(
        has=page.locator("label.widget-label", has_text=re.compile(r"^\s*week")))
    image = out.locator(".widget-output img")
    table = out.locator(".widget-html-content table")
    _wait(page, lambda: week.count() == 1 and image.count() == 1 and table.count() >= 1, RUN_CELLS_TIMEOUT_S,
          "the cells above the dashboard and the dashboard to render", on_poll=lambda: _fail_on_traceback(page))
    readout = week.locator(".widget-readout")
    w1, src1, tab1 = int(readout.inner_text()), image.get_attribute("src"), table.first.inner_text()
    _save(page, out, tmp_path, "notebook08_dashboard_before.png")
    assert out.locator("img").count() == 1, "the dashboard figure is shown more than once"
    # move the week slider with the keyboard: focus its handle and press the right arrow 10 times
    week.locator(".noUi-handle").click()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    _wait(page, lambda: int(readout.inner_text()) >= w1 + 5, 10, "the week readout to follow the keys")
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
        timeout=60_000)  # every redraw the keys asked for has run
    _wait(page, lambda: image.count() == 1 and image.get_attribute("src") != src1, 60,
          "the dashboard figure to be redrawn for the new week", on_poll=lambda: _fail_on_traceback(page))
    _wait(page, lambda: table.count() >= 1 and table.first.inner_text() != tab1, 30,
          "the week's KPI table to change")
    _settle(page, image)
    assert out.locator("img").count() == 1, "the dashboard figure is shown more than once"
    shot = _save(page, out, tmp_path, "notebook08_dashboard.png")
    assert shot.stat().st_size > 10_000


def _drive_panel(page, lab, tmp_path: Path) -> None:
    # The panel cell: the one code cell whose source calls make_panel(...); it imports make_panel.
    panel_cell = _open_and_run(page, lab, NOTEBOOK, r"make_panel\(", above=False)

    out = panel_cell.locator(".jp-Cell-outputArea")
    run = out.locator("button.widget-button", has_text=re.compile(r"^\s*Run\s*$"))
    _wait(page, lambda: run.count() == 1 and run.is_visible(), RUN_CELLS_TIMEOUT_S,
          "the panel cell to run", on_poll=lambda: _fail_on_traceback(page))

    eps = out.locator(".widget-slider").filter(
        has=page.locator("label.widget-label", has_text=re.compile(r"^\s*epsilon")))
    assert eps.count() == 1, "no slider labelled 'epsilon ...' in the panel"
    readout = eps.locator(".widget-readout")
    image = out.locator(".widget-output img")
    kpis = out.locator(".widget-output table")
    assert image.count() == 0, "the panel shows a figure before Run was pressed"

    # First run with the default settings.
    run.click()
    _wait(page, lambda: image.count() == 1 and kpis.count() == 1, PANEL_RUN_TIMEOUT_S,
          "the first run's learning curve and KPI table", on_poll=lambda: _fail_on_traceback(page))
    src1, kpi1 = image.get_attribute("src"), kpis.inner_text()
    assert "fill rate" in kpi1, kpi1
    eps1 = float(readout.inner_text())
    _save(page, out, tmp_path, "notebook05_panel_before.png")

    # Move the epsilon slider with the mouse: drag its handle a quarter of the track to the right.
    track = eps.locator(".noUi-target").bounding_box()
    handle = eps.locator(".noUi-handle").bounding_box()
    x0, y0 = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + track["width"] / 4, y0, steps=10)
    page.mouse.up()
    eps2 = float(_wait(page, lambda: readout.inner_text() if float(readout.inner_text()) != eps1 else "",
                       10, "the epsilon readout to follow the drag"))
    assert eps2 > eps1 + 0.1, (eps1, eps2)

    # Second run: the figure and the KPI table are replaced.
    run.click()
    _wait(page, lambda: image.count() == 1 and image.get_attribute("src") != src1, PANEL_RUN_TIMEOUT_S,
          "the learning curve to change after moving epsilon", on_poll=lambda: _fail_on_traceback(page))
    _wait(page, lambda: kpis.count() == 1, 10, "the KPI table of the second run")
    src2, kpi2 = image.get_attribute("src"), kpis.inner_text()
    assert "fill rate" in kpi2, kpi2
    assert kpi2 != kpi1, f"KPI table unchanged after epsilon {eps1} -> {eps2}:\n{kpi2}"
    for name, src in (("notebook05_curve_before.png", src1), ("notebook05_curve_after.png", src2)):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / name).write_bytes(base64.b64decode(src.split(",", 1)[1]))
    c1, c2 = _curve_pixels(src1), _curve_pixels(src2)
    for c in (c1, c2):  # a blank (all-white) figure is a failure, not a change
        assert (c < 200).sum() > 500, "the learning-curve axes are blank"
    assert c1.shape != c2.shape or (c1 != c2).any(), "the learning-curve axes are pixel-identical"
    shot = _save(page, out, tmp_path, "notebook05_panel.png")
    assert shot.stat().st_size > 10_000
