"""Access control in a real Chromium, as a person typing URLs (fixtures: tests/e2e/conftest.py).

- a minister typing /case-review (and every other page their role lacks) gets the summary,
  never the case review: the page is not registered for them, so none of it runs;
- no page a minister or partner can open shows a case code;
- a URL crafted with a region selection does not give an aggregate-only viewer a region
  choice, and a focal point cannot select another region through the URL.
"""
from __future__ import annotations

import re

import pytest

from dashboard.i18n import translator
from dashboard.navigation import PAGES, ROOT, default_page, pages_for
from tests.e2e.helpers import (inspect, main_text, open_path, screenshot, shows_sign_in, sign_in, submit_sign_in,
                               wait_settled)

pytestmark = pytest.mark.browser

CASE_CODE = re.compile(r"\b[A-Z]{2}-\d{4}-\d{6}\b")


def _built(spec) -> bool:
    return (ROOT / spec.file).exists()


def _goto(page, url: str, user: str) -> None:
    """Load a URL typed by hand (a new session: signed in again from the cookie, or once
    more through the form if the cookie is not read in time)."""
    page.goto(url, wait_until="domcontentloaded")
    wait_settled(page)
    if shows_sign_in(page):
        submit_sign_in(page, user)
        page.goto(url, wait_until="domcontentloaded")
        wait_settled(page)


def test_minister_typing_case_review_gets_the_summary(live_app, new_page):
    minister = live_app.viewer("minister")
    t = translator("en")
    review = next(s for s in PAGES if s.url_path == "case-review")
    home = default_page(minister)
    assert home.url_path == "summary" and review not in pages_for(minister)
    page = new_page()
    sign_in(page, live_app.url, "minister", "en")
    open_path(page, live_app.url, "case-review", "en", "minister")
    report = inspect(page)
    assert not report.signed_out and not report.exceptions
    assert report.title == t.gettext(home.title)  # "Summary"
    assert t.gettext(review.title) not in main_text(page)  # no "Case review" anywhere in the page
    assert t.gettext(review.title) not in [link["label"] for link in report.nav]
    assert not CASE_CODE.findall(page.locator("body").inner_text())
    screenshot(page, "minister-en-typed-case-review")


@pytest.mark.parametrize("user", ["minister", "partner"])
def test_aggregate_roles_reach_none_of_the_pages_they_lack(live_app, new_page, user):
    viewer = live_app.viewer(user)
    t = translator("fr")
    allowed = pages_for(viewer)
    home_title = t.gettext(default_page(viewer).title)
    page = new_page()
    sign_in(page, live_app.url, user, "fr")
    for spec in PAGES:
        if spec in allowed or not _built(spec):
            continue
        open_path(page, live_app.url, spec.url_path, "fr", user)
        report = inspect(page)
        active = [link["label"] for link in report.nav if link["active"]]
        assert active == [home_title], f"{user} typing /{spec.url_path} landed on {active} ({report.url})"
        assert report.title != t.gettext(spec.title) and not report.exceptions
        assert t.gettext(spec.title) not in [link["label"] for link in report.nav]


@pytest.mark.parametrize("user", ["minister", "partner"])
def test_no_case_code_on_any_page_of_an_aggregate_role(live_app, new_page, user):
    viewer = live_app.viewer(user)
    page = new_page()
    sign_in(page, live_app.url, user, "en")
    for spec in pages_for(viewer):
        open_path(page, live_app.url, spec.url_path, "en", user)
        body = page.locator("body").inner_text()
        assert not CASE_CODE.findall(body), f"/{spec.url_path} shows case codes to {user}: {CASE_CODE.findall(body)[:3]}"


def test_crafted_region_url_gives_a_minister_no_region_choice(live_app, new_page):
    page = new_page()
    sign_in(page, live_app.url, "minister", "en")
    _goto(page, f"{live_app.url}/summary?lang=en&regions=ML-1,ML-2", "minister")
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.locator('[data-testid="stMultiSelect"]').count() == 0
    assert "regions cannot be chosen" in sidebar.inner_text()
    assert "regions=" not in page.url  # the filters the page really used carry no region


def test_focal_point_cannot_select_another_region_by_url(live_app, new_page):
    focal = live_app.viewer("focal")
    mine = focal.regions[0]
    page = new_page()
    sign_in(page, live_app.url, "focal", "en")
    other = "ML-5" if mine != "ML-5" else "ML-6"
    _goto(page, f"{live_app.url}/case-flow?lang=en&regions={other}", "focal")
    assert f"regions={other}" not in page.url
    chips = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"] [data-baseweb="tag"]')
    assert chips.count() == 0  # nothing selected: "All my regions"
