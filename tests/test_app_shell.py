"""The app shell through AppTest: sign-in, languages, navigation per role, home figures."""
import pytest

from dashboard.navigation import PAGES, pages_for
from dashboard.privacy import Viewer
from dashboard.users import DEMO_PASSWORD
from streamlit.testing.v1 import AppTest

from dashboard import audit
from tests.apptest import APP, TIMEOUT, _env, app_for, open_page, signed_out, texts

EXPECTED = {
    "admin": ["home", "summary", "case-flow", "bottlenecks", "case-review", "shelters", "action-plan",
              "project-indicators", "data-import", "admin"],
    "committee": ["home", "summary", "case-flow", "bottlenecks", "case-review", "shelters", "action-plan",
                  "project-indicators"],
    "minister": ["home", "summary", "case-flow", "bottlenecks", "shelters", "action-plan"],
    "partner": ["home", "summary", "case-flow", "bottlenecks", "shelters", "action-plan", "project-indicators"],
}


def test_every_page_file_exists():
    from dashboard.navigation import ROOT

    assert [p.url_path for p in PAGES if not (ROOT / p.file).exists()] == []


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_navigation_per_role(role):
    assert [p.url_path for p in pages_for(Viewer(role, role))] == EXPECTED[role]


def test_import_right_adds_the_import_page():
    paths = [p.url_path for p in pages_for(Viewer("c", "committee", can_import=True))]
    assert "data-import" in paths and "admin" not in paths


@pytest.mark.parametrize("lang, title, button", [("fr", "Se connecter", "Se connecter"), ("en", "Sign in", "Sign in")])
def test_sign_in_form_is_translated(demo_db_url, lang, title, button):
    at = signed_out(demo_db_url, lang)
    assert not at.exception
    assert [t.label for t in at.text_input] == (["Nom d'utilisateur", "Mot de passe"] if lang == "fr" else ["User name", "Password"])
    assert button in [b.label for b in at.button]
    assert not at.metric  # nothing of the data before signing in


def _sign_in(at, username, password):
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click()
    return at.run()


def test_sign_in_with_the_form(demo_db_url):
    at = _sign_in(signed_out(demo_db_url, "en"), "committee", DEMO_PASSWORD)
    assert not at.exception
    assert at.session_state["authentication_status"] is True
    assert "National Referral Mechanism" in texts(at)


def test_wrong_password_is_refused(demo_db_url):
    at = _sign_in(signed_out(demo_db_url, "fr"), "partner", "not-the-password")
    assert not at.exception
    assert at.session_state["authentication_status"] is False
    assert "Nom d'utilisateur ou mot de passe incorrect." in texts(at)
    assert not at.metric


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("role", ["admin", "committee", "partner", "focal"])
def test_home_figures(demo_db_url, role, lang):
    at = app_for(role, lang, demo_db_url)
    assert not at.exception
    at = open_page(at, "app_pages/home.py")
    assert not at.exception
    labels = [m.label for m in at.metric]
    expected = ["Cas identifiés", "Référencements en attente", "Lits occupés ce soir", "Activités du plan en retard"] \
        if lang == "fr" else ["Cases identified", "Referrals pending", "Shelter beds occupied today", "Plan activities delayed"]
    assert labels == expected
    assert all(m.value not in ("", "—") for m in at.metric)
    assert ("Données de démonstration" if lang == "fr" else "Demo data") in texts(at)


def test_minister_cannot_reach_case_review(demo_db_url):
    at = app_for("minister", "en", demo_db_url)
    with pytest.raises(Exception):
        at.switch_page("app_pages/case_review.py").run()


def test_home_on_an_empty_database(empty_db_url):
    at = open_page(app_for("committee", "en", empty_db_url), "app_pages/home.py")
    assert not at.exception
    # no cases, referrals or stays; the plan comes from the profile, so activities may be late
    assert [m.value for m in at.metric][:3] == ["0", "0", "0"]


@pytest.mark.parametrize("lang, message", [("en", "The database cannot be reached right now"),
                                           ("fr", "La base de données est injoignable pour le moment")])
def test_database_down_gives_a_clear_message(lang, message):
    at = signed_out("postgresql+psycopg://nobody@127.0.0.1:1/none", lang)
    assert not at.exception
    assert message in texts(at)
    assert not at.text_input  # no sign-in form over a database that is not there



def test_filter_state_dropped_by_streamlit_comes_back_from_the_url():
    """Streamlit drops a widget's state when a page change reaches the server before the
    browser reported that widget (sign-in, then the re-login cookie's rerun). The filters
    must then come back from the URL (which holds the last run's filters), not fall to the
    selectbox's first option ("this quarter")."""
    from datetime import date

    from dashboard.ui import seed_filter_state

    today = date(2026, 12, 2)
    url = {"period": "custom", "from": "2026-03-01", "to": "2026-05-31", "regions": "ML-1,ML-9,XX"}
    # every filter widget lost its state (a new session, or all dropped): all from the URL
    state = {}
    seed_filter_state(state, url, today, {"ML-1", "ML-2", "ML-9"}, None)
    assert state == {"flt_period": "custom", "flt_range": (date(2026, 3, 1), date(2026, 5, 31)),
                     "flt_regions": ["ML-1", "ML-9"]}
    # only the period was dropped: it comes back; the regions the person holds now stay
    state = {"flt_regions": ["ML-2"], "flt_range": (date(2026, 1, 1), date(2026, 1, 31)), "lang": "fr"}
    seed_filter_state(state, {"period": "year_to_date", "regions": "ML-1"}, today, {"ML-1", "ML-2"}, None)
    assert state == {"flt_regions": ["ML-2"], "flt_range": (date(2026, 1, 1), date(2026, 1, 31)), "lang": "fr",
                     "flt_period": "year_to_date"}
    # nothing dropped: nothing changes, even if the URL says otherwise
    before = dict(state)
    seed_filter_state(state, {"period": "this_quarter"}, today, {"ML-1"}, None)
    assert state == before
    # no period in the URL: the default period, never the first option
    state = {}
    seed_filter_state(state, {}, today, {"ML-1"}, None)
    assert state["flt_period"] == "last_12_months" and state["flt_regions"] == []


def test_the_url_period_is_the_sessions_period(demo_db_url):
    _env(demo_db_url)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["period"] = "year_to_date"
    for key, value in {"lang": "en", "authentication_status": True, "username": "committee", "name": "committee",
                       "login_at": audit.now()}.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception
    assert at.selectbox(key="flt_period").value == "year_to_date"
    at.selectbox(key="flt_period").set_value("last_quarter").run()
    assert at.query_params["period"] == "last_quarter"
