"""The case review page through AppTest: committee, administrator and the regional focal
point (a committee member scoped to one region), in French and English, on the demo
database and on an empty one; the minister and partner cannot reach it; opening a case
and exporting the agenda are written to the audit log (once per action, not per rerun).
"""
from __future__ import annotations

import json
import shutil

import pytest
import sqlalchemy as sa

from dashboard import schema
from dashboard.db import make_engine
from tests.apptest import app_for, open_page, texts

PAGE = "app_pages/case_review.py"
TITLE = {"fr": "Revue des cas", "en": "Case review"}
METRICS = {
    "fr": ["Référencement en retard", "Pas encore d'assistance", "Séjour prolongé en centre", "Sans mouvement"],
    "en": ["Overdue referral", "No assistance yet", "Long shelter stay", "No movement"],
}
AGENDA = {"fr": "Ordre du jour : {n} cas", "en": "Agenda: {n} cases"}
EMPTY = {"fr": "Aucun cas ne demande d'attention dans cette sélection.", "en": "No case needs attention in this selection."}


def _focal_region(db_url: str) -> str:
    eng = make_engine(db_url)
    with eng.connect() as conn:
        name = conn.execute(
            sa.select(schema.regions.c.name)
            .select_from(schema.user_regions.join(schema.users).join(schema.regions))
            .where(schema.users.c.username == "focal")
        ).scalar_one()
    eng.dispose()
    return name


def _audit(db_url: str, action: str) -> list:
    eng = make_engine(db_url)
    with eng.connect() as conn:
        rows = conn.execute(
            sa.select(schema.audit_log.c.username, schema.audit_log.c.target, schema.audit_log.c.detail)
            .where(schema.audit_log.c.action == action).order_by(schema.audit_log.c.id)
        ).all()
    eng.dispose()
    return rows


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("user", ["committee", "admin", "focal"])
def test_agenda_with_demo_data(demo_db_url, user, lang):
    at = open_page(app_for(user, lang, demo_db_url), PAGE)
    assert not at.exception
    assert at.title[0].value == TITLE[lang]
    assert [m.label for m in at.metric] == METRICS[lang]
    heading = next(h.value for h in at.subheader if h.value.startswith(AGENDA[lang].split("{")[0]))
    total = int(heading.split(":")[1].split()[0].replace("\u202f", "").replace(",", ""))
    assert total > 0 and heading == AGENDA[lang].format(n=f"{total:,}".replace(",", "\u202f" if lang == "fr" else ","))
    per_reason = [int(m.value.replace("\u202f", "").replace(",", "")) for m in at.metric]
    assert max(per_reason) <= total <= sum(per_reason)  # a case may have several reasons
    agenda = at.dataframe[0].value
    assert len(agenda) == min(total, 300)
    days = agenda["days_past"].tolist()
    assert days == sorted(days, reverse=True) and min(days) >= 1  # most urgent first, all past a threshold
    assert agenda["why"].str.len().min() > 0
    if user == "focal":
        assert set(agenda["region_name"]) == {_focal_region(demo_db_url)}
    assert len(at.get("download_button")) == 1
    assert at.selectbox(key="case_review_case").options == agenda["case_code"].tolist()
    # no personal data columns, only the pseudonymous code and the case's attributes
    assert list(agenda.columns) == ["case_code", "days_past", "why", "holder_name", "region_name", "sex", "age_band",
                                    "case_status", "current_stage"]


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("user", ["committee", "admin", "focal"])
def test_empty_database(empty_db_url, user, lang):
    at = open_page(app_for(user, lang, empty_db_url), PAGE)
    assert not at.exception
    assert at.title[0].value == TITLE[lang]
    assert [m.value for m in at.metric] == ["0"] * 4
    assert AGENDA[lang].format(n=0) in [h.value for h in at.subheader]
    assert EMPTY[lang] in texts(at)
    assert not at.dataframe and not at.get("download_button")
    assert "case_review_case" not in [s.key for s in at.selectbox]


@pytest.mark.parametrize("user", ["minister", "partner"])
def test_aggregate_roles_cannot_reach_the_page(demo_db_url, user):
    at = app_for(user, "en", demo_db_url)
    assert not at.exception
    # the page is not registered with st.navigation for them, so AppTest cannot switch to it
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)


def test_opening_a_case_and_exporting_are_audited(demo_db_url, tmp_path):
    path = tmp_path / "audit.db"
    shutil.copy(demo_db_url.removeprefix("sqlite:///"), path)
    url = f"sqlite:///{path}"
    at = open_page(app_for("committee", "en", url), PAGE)
    assert not at.exception
    at.run()  # a rerun with the same filters is not a new page view
    views = _audit(url, "case_level_view")
    assert [(u, t) for u, t, _ in views] == [("committee", "case-review")]

    codes = at.dataframe[0].value["case_code"].tolist()
    at.selectbox(key="case_review_case").set_value(codes[0]).run()
    assert not at.exception
    assert at.markdown and f"### {codes[0]}" in [m.value for m in at.markdown]
    assert at.table, "the timeline's compact table"
    at.run()  # still the same case open: not logged again
    assert [(u, t) for u, t, _ in _audit(url, "case_open")] == [("committee", codes[0])]

    listed = int(next(h.value for h in at.subheader if h.value.startswith("Agenda:")).split()[1].replace(",", ""))
    at.get("download_button")[0].click().run()
    assert not at.exception
    exports = _audit(url, "export")
    assert len(exports) == 1
    assert exports[0][0] == "committee" and json.loads(exports[0][2]) == {"what": "case_review_agenda", "rows": listed}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_print_view(demo_db_url, lang):
    at = open_page(app_for("committee", lang, demo_db_url), PAGE)
    at.toggle(key="case_review_print").set_value(True).run()
    assert not at.exception
    assert not at.metric and not at.dataframe and not at.get("download_button")
    heading = "Ordre du jour de la revue des cas — réunion du" if lang == "fr" else "Case review agenda — meeting of"
    assert any(s.value.startswith(heading) for s in at.subheader)
    assert len(at.table) == 1
    hint = "Utilisez la commande Imprimer" if lang == "fr" else "Use your browser's Print command"
    assert hint in texts(at)
