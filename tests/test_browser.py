"""The built book in headless Chromium, served on localhost with every other address blocked.

Debian's Chromium (``/usr/bin/chromium``) is driven by Playwright; no browser is downloaded.
Screenshots of every page land in ``test-output/screenshots/``.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest
from book_pages import toc_files
from offline_visit import OfflineVisit

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# Chapters whose pages carry sliders over precomputed figures (nncourse.display.slider_html).
SLIDER_PAGES = ("book/ch01_gradient_descent", "book/ch07_optimizers")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(built_html: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(built_html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


@pytest.fixture(scope="module")
def visits(browser, site, repo, test_output) -> dict[str, OfflineVisit]:
    shots = test_output / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    result = {}
    for path in toc_files(repo):
        visit = OfflineVisit(browser, urljoin(site, f"{path}.html"), wait_until="networkidle")
        visit.page.screenshot(path=str(shots / f"{Path(path).name}.png"), full_page=True)
        result[path] = visit
    return result


def test_pages_load_cleanly_offline(visits):
    problems = {
        path: {"console": v.console_errors, "failed": v.failed, "external": v.blocked}
        for path, v in visits.items() if v.console_errors or v.failed or v.blocked
    }
    assert not problems


def test_math_is_typeset(visits, repo):
    for path, visit in visits.items():
        source = next((repo / path).parent.glob(f"{Path(path).name}.*")).read_text()
        if "$" not in source:
            continue
        assert visit.page.locator("mjx-container").count() > 0, f"{path}: no typeset math"
        text = visit.page.locator("article").inner_text()
        assert "$$" not in text, f"{path}: raw $$ left in the page"


def test_images_and_animations_are_present(visits, repo):
    for path, visit in visits.items():
        broken = visit.page.evaluate(
            "() => [...document.querySelectorAll('article img')]"
            ".filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src)"
        )
        assert not broken, f"{path}: images not loaded {broken}"
        source = next((repo / path).parent.glob(f"{Path(path).name}.*")).read_text()
        if "animation_html(" in source or "animate_descent(" in source:
            assert visit.page.locator(".animation img, .animation").count() > 0, (
                f"{path}: animation missing"
            )


def test_every_internal_link_resolves(visits, site):
    import urllib.request

    checked: set[str] = set()
    for path, visit in visits.items():
        hrefs = visit.page.eval_on_selector_all(
            "a[href]", "links => links.map(a => a.href)"
        )
        for href in hrefs:
            target = href.split("#")[0]
            if not target.startswith(site) or target in checked:
                continue
            checked.add(target)
            with urllib.request.urlopen(target) as response:
                assert response.status == 200, f"{path} links to {href}"
    sidebar = visits["book/index"].page.locator("nav.bd-links a").count()
    assert sidebar >= len(visits) - 1, "the sidebar does not list every page"
    assert checked


@pytest.mark.parametrize("path", SLIDER_PAGES)
def test_every_slider_changes_the_figure_without_a_kernel(visits, path):
    if path not in visits:
        pytest.fail(f"{path} is not in the table of contents")
    visit = visits[path]
    page = visit.page
    assert page.locator(".jupyter-widgets").count() == 0, "a kernel-only widget is left"
    sliders = page.locator(".nncourse-slider")
    assert sliders.count() > 0, f"{path}: no precomputed slider"
    moved = 0
    for number in range(sliders.count()):
        slider = sliders.nth(number)
        image = slider.locator("img")
        controls = slider.locator("[data-control]")
        assert controls.count() > 0
        for k in range(controls.count()):
            control = controls.nth(k)
            before = image.get_attribute("src")
            # Move to another position (the first, or the last when it starts first), the way
            # a reader's drag or choice does: set the value, then fire the 'input' event.
            shown = control.evaluate(
                """c => {
                    const last = c.tagName === 'SELECT' ? c.options.length - 1 : Number(c.max);
                    c.value = String(Number(c.value) === 0 ? last : 0);
                    c.dispatchEvent(new Event('input', {bubbles: true}));
                    const out = c.parentNode.querySelector('output');
                    return out ? out.textContent : c.options[c.selectedIndex].textContent;
                }"""
            )
            after = image.get_attribute("src")
            assert after.startswith("data:image/png;base64,") and after != before, (
                f"{path}: moving control {k} of slider {number} did not change the figure"
            )
            assert shown, f"{path}: control {k} shows no value"
            page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                                   arg=image.element_handle())
            moved += 1
    assert moved >= 2
    assert not (visit.console_errors or visit.failed or visit.blocked), (
        visit.console_errors, visit.failed, visit.blocked
    )
