"""The action plan and project indicators pages through AppTest: each role sees what it
should, in French and English, with demo data and with an empty database; the update forms
write what they should (and only that) and the pages show it at once."""
from __future__ import annotations

import shutil
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from dashboard import schema as s
from dashboard.db import make_engine
from tests.apptest import app_for, open_page, texts

PLAN, INDICATORS = "app_pages/action_plan.py", "app_pages/project_indicators.py"
WATCHED = [s.plan_activities, s.activity_status_history, s.indicator_values, s.audit_log]
TITLES = {
    PLAN: {"fr": "Plan d'action national", "en": "National Action Plan"},
    INDICATORS: {"fr": "Indicateurs de projet", "en": "Project indicators"},
}


@pytest.fixture
def writable_db(demo_db_url, tmp_path):
    """A copy of the session's demo database that a test may write to."""
    path = tmp_path / "demo-copy.db"
    shutil.copy(demo_db_url.removeprefix("sqlite:///"), path)
    return f"sqlite:///{path}"


def _counts(url: str) -> dict:
    eng = make_engine(url)
    with eng.connect() as c:
        out = {t.name: sorted(map(tuple, c.execute(sa.select(t).where(sa.true())))) if t is s.plan_activities
               else c.execute(sa.select(sa.func.count()).select_from(t)).scalar() for t in WATCHED}
        out["audit_updates"] = c.execute(sa.select(sa.func.count()).select_from(s.audit_log)
                                         .where(s.audit_log.c.action == "update")).scalar()
    eng.dispose()
    return out


def _open(role, lang, url, page):
    at = app_for(role, lang, url)
    assert not at.exception
    at = open_page(at, page)
    assert not at.exception, at.exception
    return at


def _form_buttons(at):
    return [b for b in at.button if b.proto.is_form_submitter]


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("role", ["admin", "committee", "minister", "partner", "focal"])
def test_pages_per_role(demo_db_url, role, lang):
    at = _open(role, lang, demo_db_url, PLAN)
    shown = texts(at)
    assert TITLES[PLAN][lang] in shown
    assert ("Où en est chaque pilier" if lang == "fr" else "Where each pillar stands") in shown
    assert ("Activités en retard" if lang == "fr" else "Delayed activities") in shown
    assert len(at.get("vega_lite_chart")) >= 4   # pillars, leads, timeline, budget (+ history)
    assert [m.label for m in at.metric][:4] == ["En retard" if lang == "fr" else "Delayed"] * 4
    # the status form: administrators and committee members; a regional focal point only for
    # the activities of its region (the first one listed, ML-PART-1.1, is national)
    assert at.selectbox(key="plan_activity").value == "ML-PART-1.1"
    assert bool(_form_buttons(at)) == (role in ("admin", "committee"))
    if role == "focal":
        at.selectbox(key="plan_activity").set_value("ML-PREV-2.2")  # Bamako
        at = at.run()
        assert not at.exception and len(_form_buttons(at)) == 1
    if role == "minister":
        with pytest.raises(Exception):  # not registered for ministers
            at.switch_page(INDICATORS).run()
        return
    at = open_page(at, INDICATORS)
    assert not at.exception, at.exception
    shown = texts(at)
    assert TITLES[INDICATORS][lang] in shown
    assert ("Cadre de résultats" if lang == "fr" else "Results matrix") in shown
    assert len(at.table) == 4                                  # the four outputs of COMPASS
    assert ("Effet CMP-ML-OC1" if lang == "fr" else "Outcome CMP-ML-OC1") in shown
    assert len(at.get("vega_lite_chart")) == 1                 # the trend of the chosen indicator
    assert len(_form_buttons(at)) == 1                         # partners may record values too


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_pages_with_an_empty_database(empty_db_url, lang):
    at = _open("committee", lang, empty_db_url, PLAN)
    shown = texts(at)
    # the profile's plan is loaded, every activity not started, no history yet
    assert TITLES[PLAN][lang] in shown
    assert ("Aucun changement de statut" if lang == "fr" else "No status change") in shown
    at = _open("partner", lang, empty_db_url, INDICATORS)
    shown = texts(at)
    assert ("Cadre de résultats" if lang == "fr" else "Results matrix") in shown
    assert ("Pas encore de valeur" if lang == "fr" else "No value for this indicator yet") in shown


def test_minister_empty_database(empty_db_url):
    at = _open("minister", "fr", empty_db_url, PLAN)
    assert TITLES[PLAN]["fr"] in texts(at)


def _status_form(at, status, when, note, budget=None):
    at.selectbox(key="plan_form_status").set_value(status)
    at.date_input(key="plan_form_date").set_value(when)
    at.text_area(key="plan_form_note").input(note)
    if budget is not None:
        at.number_input(key="plan_form_budget").set_value(budget)
    _form_buttons(at)[0].click()
    return at.run()


def test_status_change_through_the_form(writable_db):
    at = _open("committee", "en", writable_db, PLAN)
    code = at.selectbox(key="plan_activity").value
    before = _counts(writable_db)
    at = _status_form(at, "completed", date.today(), "Final report received", budget=1234.0)
    assert not at.exception
    assert f"Status change recorded for {code}." in [x.value for x in at.success]
    after = _counts(writable_db)
    assert after["activity_status_history"] == before["activity_status_history"] + 1
    assert after["audit_updates"] == before["audit_updates"] + 1
    # shown at once: the detail says completed and the history table has the note
    assert "Recorded status: **Completed**" in texts(at)
    history = [df for df in at.dataframe if "Evidence note" in df.value.columns][0].value
    assert history.iloc[0]["Evidence note"] == "Final report received" and history.iloc[0]["Status"] == "Completed"
    assert history.iloc[0]["Recorded by"] == "committee"


def test_invalid_status_change_is_refused(writable_db):
    at = _open("admin", "fr", writable_db, PLAN)
    before = _counts(writable_db)
    at = _status_form(at, "cancelled", date.today() + timedelta(days=3), "")
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("est dans le futur" in e for e in errors)
    assert any("note justificative est obligatoire" in e for e in errors)
    assert _counts(writable_db) == before


def _value_form(at, indicator, quarter, value=None, female=None, male=None, note=""):
    at.selectbox(key="ind_form_indicator").set_value(indicator)
    at.selectbox(key="ind_form_quarter").set_value(quarter)
    for key, v in (("ind_form_value", value), ("ind_form_female", female), ("ind_form_male", male)):
        if v is not None:
            at.number_input(key=key).set_value(v)
    at.text_area(key="ind_form_note").input(note)
    _form_buttons(at)[0].click()
    return at.run()


def test_indicator_value_through_the_form(writable_db):
    at = _open("partner", "en", writable_db, INDICATORS)
    before = _counts(writable_db)
    # frontline actors trained (by sex): total from the sexes, 250 + 190
    at = _value_form(at, "CMP-ML-2.1.3", "2026-Q1", female=250.0, male=190.0, note="Training reports")
    assert not at.exception
    assert "Value recorded for CMP-ML-2.1.3, Q1 2026." in [x.value for x in at.success]
    after = _counts(writable_db)
    assert after["indicator_values"] == before["indicator_values"] + 3 and after["audit_updates"] == before["audit_updates"] + 1
    at.selectbox(key="ind_indicator").set_value("CMP-ML-2.1.3")
    at = at.run()
    assert not at.exception
    assert "Latest value 440" in texts(at)
    recorded = [df for df in at.dataframe if "Recorded by" in df.value.columns][0].value
    first = recorded[recorded["Recorded by"] == "partner"]
    assert sorted(first["Value"]) == ["190", "250", "440"] and set(first["Use"]) == {"Counts"}


def test_invalid_indicator_value_is_refused(writable_db):
    at = _open("committee", "fr", writable_db, INDICATORS)
    before = _counts(writable_db)
    # a percentage above 100
    at = _value_form(at, "CMP-ML-1.2.2", "2026-Q1", value=120.0)
    assert not at.exception
    assert any("hors limites pour un pourcentage" in e.value for e in at.error)
    assert _counts(writable_db) == before
