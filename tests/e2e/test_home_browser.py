"""The home page after signing in through the real form: the four headline figures, with
translated labels, showing exactly what the database holds for the default filters."""
from __future__ import annotations

from datetime import date

import pytest

from dashboard.filters import DEFAULT_PRESET, Filters, preset_range
from dashboard.i18n import translator
from tests.e2e.helpers import inspect, screenshot, sign_in, wait_settled

pytestmark = pytest.mark.browser

LABELS = {
    "fr": ["Cas identifiés", "Référencements en attente", "Lits occupés ce soir", "Activités du plan en retard"],
    "en": ["Cases identified", "Referrals pending", "Shelter beds occupied today", "Plan activities delayed"],
}


def expected_figures(db_url: str, lang: str) -> list[str]:
    """The four figures computed directly from the database for the filters a new session
    starts with (default period, all regions), formatted as the page formats them."""
    from dashboard.db import make_engine
    from dashboard.queries import home

    today = date.today()
    start, end = preset_range(DEFAULT_PRESET, today)
    f = Filters(start=start, end=end, today=today, preset=DEFAULT_PRESET, regions=(), scope=None)
    eng = make_engine(db_url)
    try:
        with eng.connect() as conn:
            values = home.figures(conn, f).set_index("figure")["value"]
    finally:
        eng.dispose()
    t = translator(lang)
    return [t.number(values[k]) for k in ("cases_identified", "referrals_pending", "beds_occupied_today",
                                          "activities_delayed")]


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_home_figures_after_signing_in(live_app, new_page, lang):
    page = new_page()
    sign_in(page, live_app.url, "committee", lang)  # home is the committee's default page
    wait_settled(page)
    metrics = page.locator('[data-testid="stMain"] [data-testid="stMetric"]')
    labels = [m.locator('[data-testid="stMetricLabel"]').inner_text().strip() for m in metrics.all()]
    values = [m.locator('[data-testid="stMetricValue"]').inner_text().strip() for m in metrics.all()]
    screenshot(page, f"committee-{lang}-signed-in")
    assert labels == LABELS[lang]
    assert values == expected_figures(live_app.db_url, lang)
    assert int(values[0].replace("\u202f", "").replace("\xa0", "").replace(",", "").replace(" ", "")) > 0
    report = inspect(page)
    assert not report.exceptions and not report.error_boxes
    assert report.figures["stVegaLiteChart"] >= 1  # identifications per month

