"""Every registered page, for every role, in French and in English, in a real Chromium.

One test per user × language (10 tests, so two xdist workers split them evenly): sign in once
through the real form, then open each page ``navigation.pages_for(viewer)`` gives that user by
typing its URL, and check what a person would see. Each page's problems are collected and
reported together, naming the page; a full-page screenshot of each lands in
tests/artifacts/screenshots/<user>-<lang>-<page>.png (scripts/screenshots.py builds the
README gallery from them).
"""
from __future__ import annotations

import pytest
from playwright.sync_api import Error as PlaywrightError

from dashboard.i18n import translator
from dashboard.navigation import PAGES, ROOT, default_page, pages_for
from tests.e2e.helpers import ARTIFACTS, FIGURES, inspect, open_path, screenshot, sign_in

pytestmark = pytest.mark.browser

USERS = ["admin", "committee", "focal", "minister", "partner"]  # demo users (focal: committee, one region)
LANGS = ["fr", "en"]


def page_problems(report, spec, menu: list[str], t) -> list[str]:
    """What is wrong with one loaded page (empty list: nothing)."""
    title = t.gettext(spec.title)
    problems = []
    if report.signed_out:
        return ["shows the sign-in form instead of the page"]
    if not report.title:
        problems.append("no page title (h1)")
    if not any(report.figures.values()):
        problems.append(f"no figure, chart, table or form rendered (looked for {', '.join(FIGURES)})")
    if report.exceptions:
        problems.append(f"{report.exceptions} exception box(es) shown")
    if report.error_boxes:
        problems.append(f"error box(es): {report.error_boxes}")
    if len(menu) > 1:  # Streamlit shows no menu for a single page
        labels = [link["label"] for link in report.nav]
        if labels != menu:
            problems.append(f"sidebar menu offers {len(labels)} page(s) {labels}, expected {len(menu)}: {menu}")
        active = [link["label"] for link in report.nav if link["active"]]
        if active != [title]:
            problems.append(f"landed on {active or 'no page'} (URL {report.url}), not on {title!r}")
    elif report.nav:
        problems.append(f"a menu is shown for a single page: {report.nav}")
    return problems


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("user", USERS)
def test_every_page_of_the_role_renders(live_app, new_page, user, lang):
    viewer = live_app.viewer(user)
    specs = pages_for(viewer)
    assert specs, f"{user} has no page at all"
    t = translator(lang)
    menu = [t.gettext(s.title) for s in specs]
    home = default_page(viewer)
    page = new_page()
    sign_in(page, live_app.url, user, lang)

    failures = []
    for spec in specs:
        # the default page lives at the root URL (Streamlit answers its own path with "Page not found")
        path = "" if spec is home else spec.url_path
        try:
            open_path(page, live_app.url, path, lang, user)
        except (PlaywrightError, AssertionError) as exc:  # a timeout: the page never finished running
            try:
                screenshot(page, f"{user}-{lang}-{spec.url_path}")
            except PlaywrightError:
                pass  # the page is gone: the failure below says why
            failures.append(f"/{spec.url_path}: did not finish loading: {str(exc).splitlines()[0]}")
            continue
        screenshot(page, f"{user}-{lang}-{spec.url_path}")
        report = inspect(page)
        if "Page not found" in page.locator("body").inner_text():
            failures.append(f"/{spec.url_path}: 'Page not found'")
        failures += [f"/{spec.url_path}: {p}" for p in page_problems(report, spec, menu, t)]
    assert not failures, (f"{user} ({lang}), {len(failures)} problem(s) over {len(specs)} page(s):\n  "
                          + "\n  ".join(failures) + f"\nserver log (end):\n{live_app.log_tail(1500)}")


# Typing the URL of a page the role lacks (minister → /case-review, partner → /admin): test_access_browser.py.


def test_summary_pack_downloads_as_pdf(live_app, new_page):
    spec = next(p for p in PAGES if p.url_path == "summary")
    if not (ROOT / spec.file).exists():
        pytest.skip("the summary page is not built in this checkout")
    page = new_page()
    sign_in(page, live_app.url, "minister", "en")
    viewer = live_app.viewer("minister")
    open_path(page, live_app.url, "" if default_page(viewer).url_path == "summary" else "summary", "en", "minister")
    button = page.locator('.st-key-summary_pack_pdf [data-testid="stDownloadButton"] button:visible')
    assert button.count() >= 1, "the summary page has no download button with key 'summary_pack_pdf'"
    with page.expect_download(timeout=90_000) as info:
        button.first.click()
    download = info.value
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / "summary-pack-minister-en.pdf"
    download.save_as(target)
    data = target.read_bytes()
    assert download.suggested_filename.lower().endswith(".pdf")
    assert data.startswith(b"%PDF-") and len(data) > 2000
    assert b"%%EOF" in data[-1024:]
