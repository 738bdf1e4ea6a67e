"""Playwright helpers of the browser suite: sign in through the real form, open a page by
its URL path, wait until Streamlit has finished, and read what a person would see.

Waits are conditions, never fixed sleeps: a page is *settled* when the script is not running
(``stApp[data-test-script-state=notRunning]``, the attribute Streamlit keeps for its own
end-to-end tests), the websocket is connected, no "running" status widget or skeleton is
shown, every chart has drawn, and all of that has held for a short quiet window (a component
such as the cookie manager may trigger one more run right after the first).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from dashboard.users import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
FIRST_LOAD_S = 60.0  # a first page load on a cold server (imports, first queries)
COOKIE = "nrm_dashboard"  # streamlit-authenticator's re-login cookie (app.py)
QUIET_MS = 400

# What counts as "a figure, chart, table or form rendered" in the main area.
FIGURES = ("stMetric", "stVegaLiteChart", "stDataFrame", "stTable", "stForm", "stDownloadButton")

_SETTLED_JS = """
([quiet]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const busy = !app
    || app.dataset.testScriptState !== 'notRunning'
    || app.dataset.testConnectionState !== 'CONNECTED'
    || document.querySelector('[data-testid="stStatusWidget"], [data-testid="stSkeleton"]')
    || [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].some(e => !e.querySelector('canvas, svg'));
  if (busy) { window.__nrmQuietSince = null; return false; }
  if (!window.__nrmQuietSince) window.__nrmQuietSince = performance.now();
  return performance.now() - window.__nrmQuietSince >= quiet;
}
"""


def wait_settled(page: Page, timeout_s: float = FIRST_LOAD_S) -> None:
    """Wait until the script finished and the page stopped changing (see the module docstring)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_s * 1000)
    page.wait_for_function(_SETTLED_JS, arg=[QUIET_MS], polling=100, timeout=timeout_s * 1000)


# streamlit-authenticator's login form (st.form key "Login": its submit button carries the key)
SIGN_IN_FORM = '[data-testid="stForm"]:has([class*="st-key-FormSubmitter-Login-"])'


def shows_sign_in(page: Page) -> bool:
    """The sign-in form is shown (not just any password field: the admin page has some)."""
    return page.locator(f'{SIGN_IN_FORM} input[type="password"]').count() > 0


def has_cookie(page: Page) -> bool:
    return any(c["name"] == COOKIE for c in page.context.cookies())


def submit_sign_in(page: Page, user: str, password: str = DEMO_PASSWORD, timeout_s: float = FIRST_LOAD_S) -> None:
    """Fill and submit the sign-in form shown on ``page``; wait for the signed-in page and
    for the re-login cookie (written by a component a moment after sign-in)."""
    form = page.locator(SIGN_IN_FORM)
    form.locator('input[type="text"]').first.fill(user)
    form.locator('input[type="password"]').first.fill(password)
    form.locator('[data-testid="stFormSubmitButton"] button').first.click()
    try:
        page.wait_for_selector(f'{SIGN_IN_FORM} input[type="password"]', state="detached", timeout=timeout_s * 1000)
    except PlaywrightTimeout:
        raise AssertionError(f"sign-in as {user!r} did not leave the form; page says: {main_text(page)[:300]!r}") from None
    wait_settled(page, timeout_s)
    deadline = time.monotonic() + 20
    while not has_cookie(page):
        if time.monotonic() > deadline:
            raise AssertionError(f"the re-login cookie {COOKIE!r} was not written within 20 s of signing in as {user!r}")
        page.wait_for_timeout(100)  # polling the browser's cookie jar: there is no event to wait on


def sign_in(page: Page, base: str, user: str, lang: str, password: str = DEMO_PASSWORD) -> None:
    """Open the app in ``lang`` and sign in through the real form."""
    page.goto(f"{base}/?lang={lang}", wait_until="domcontentloaded", timeout=FIRST_LOAD_S * 1000)
    wait_settled(page)
    assert shows_sign_in(page), f"expected the sign-in form at {base}/?lang={lang}; page says: {main_text(page)[:300]!r}"
    submit_sign_in(page, user, password)


_PAGE_CURRENT_JS = """
([path]) => {
  const seg = a => new URL(a.href).pathname.replace(/\\/$/, '').split('/').pop();
  const link = [...document.querySelectorAll('[data-testid="stSidebarNavLink"]')].find(a => seg(a) === path);
  return !link || link.getAttribute('aria-current') === 'page';
}
"""


def open_path(page: Page, base: str, path: str, lang: str, user: str, password: str = DEMO_PASSWORD) -> None:
    """Load ``base/path?lang=..`` as a person typing the URL. The session is new, so the app
    signs in again from the cookie; if it still shows the form (the cookie race), sign in
    once more through the form and load the URL again. When the menu offers that page but
    another is current (app.py is still switching to the page the URL named: st.switch_page
    goes through the browser), wait for the switch; a page not in the menu is not waited for."""
    url = f"{base}/{path}?lang={lang}"
    page.goto(url, wait_until="domcontentloaded", timeout=FIRST_LOAD_S * 1000)
    wait_settled(page)
    if shows_sign_in(page):
        submit_sign_in(page, user, password)
        page.goto(url, wait_until="domcontentloaded", timeout=FIRST_LOAD_S * 1000)
        wait_settled(page)
    if not page.evaluate(_PAGE_CURRENT_JS, [path]):
        try:
            page.wait_for_function(_PAGE_CURRENT_JS, arg=[path], polling=100, timeout=FIRST_LOAD_S * 1000)
        except PlaywrightTimeout:
            return  # the test's own checks say which page is shown instead
        wait_settled(page)


def main_text(page: Page) -> str:
    main = page.locator('[data-testid="stMain"]')
    return main.inner_text() if main.count() else page.locator("body").inner_text()


def count(page: Page, testid: str, within: str = "stMain") -> int:
    return page.locator(f'[data-testid="{within}"] [data-testid="{testid}"]').count()


def nav_links(page: Page) -> list[dict]:
    """The sidebar's page links as {label, href, active}; expands "View more" if shown."""
    nav = page.locator('[data-testid="stSidebarNav"]')
    if not nav.count():
        return []
    more = page.locator('[data-testid="stSidebarNavViewButton"]')
    if more.count() and "more" in more.inner_text().lower():
        more.click()
        page.wait_for_function(
            "() => !/more/i.test(document.querySelector('[data-testid=stSidebarNavViewButton]')?.innerText || '')")
    return page.eval_on_selector_all(
        '[data-testid="stSidebarNav"] [data-testid="stSidebarNavLink"]',
        """els => els.map(e => ({
              label: (e.querySelector('[data-testid="stMarkdownContainer"]') || e).innerText.trim(),
              href: e.getAttribute('href') || '',
              active: e.getAttribute('aria-current') === 'page'}))""",
    )


@dataclass
class PageReport:
    """What a person sees on one loaded page, and what is wrong with it."""
    url: str
    title: str
    figures: dict
    exceptions: int
    error_boxes: list[str]
    nav: list[dict]
    signed_out: bool
    problems: list[str] = field(default_factory=list)


def inspect(page: Page) -> PageReport:
    h1 = page.locator('[data-testid="stMain"] h1')
    error_boxes = page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
    return PageReport(
        url=page.url,
        title=h1.first.inner_text().strip() if h1.count() else "",
        figures={k: count(page, k) for k in FIGURES},
        exceptions=page.locator('[data-testid="stException"]').count(),
        error_boxes=[t.strip()[:200] for t in error_boxes],
        nav=nav_links(page),
        signed_out=shows_sign_in(page),
    )


MAX_SHOT_HEIGHT = 12000

_NEXT_FRAMES_JS = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"


def screenshot(page: Page, name: str) -> Path:
    """The whole page, as tall as its content. Streamlit scrolls inside stMain (the body is
    one viewport high, so Playwright's full_page alone stops at the fold): grow the viewport
    to the content's height for the shot, then put it back."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size or {"width": 1400, "height": 900}
    height = page.evaluate(
        "() => Math.max(...['stMain', 'stSidebarContent'].map(id => "
        "document.querySelector(`[data-testid=${id}]`)?.scrollHeight || 0))")
    tall = min(max(int(height), size["height"]), MAX_SHOT_HEIGHT)
    if tall > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": tall})
        page.evaluate(_NEXT_FRAMES_JS)  # charts redraw on resize, within a frame or two
        page.evaluate(_NEXT_FRAMES_JS)
    page.screenshot(path=str(path), full_page=True)
    if tall > size["height"]:
        page.set_viewport_size(size)
    return path
