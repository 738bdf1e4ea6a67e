"""Update forms' writes: every invalid input refused with nothing written; valid ones keep
history and write the audit log in the same transaction."""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from dashboard import schema as s
from dashboard import updates
from dashboard.filters import Filters
from dashboard.privacy import Viewer
from dashboard.queries import indicators as qi
from dashboard.queries import plan as qp

TODAY = date(2026, 6, 30)
COMMITTEE = Viewer("cm", "committee")
PARTNER = Viewer("pa", "partner")
MINISTER = Viewer("mi", "minister")
FOCAL_B = Viewer("fb", "committee", regions=("B",))
WATCHED = [s.plan_activities, s.activity_status_history, s.indicator_values, s.audit_log]


def _fill(engine):
    with engine.begin() as c:
        c.execute(s.regions.insert(), [{"code": "A", "name": "Alpha"}, {"code": "B", "name": "Beta"}])
        c.execute(s.organisations.insert(), [{"code": "O1", "name": "Org", "org_type": "NGO", "region_id": 1}])
        c.execute(s.plans.insert(), [{"code": "P", "title_fr": "Plan", "title_en": "Plan", "starts_on": date(2024, 1, 1),
                                      "ends_on": date(2027, 12, 31)}])
        c.execute(s.plan_objectives.insert(), [{"plan_id": 1, "code": "OB", "pillar": "protection", "title_fr": "O",
                                                "title_en": "O"}])
        c.execute(s.plan_activities.insert(), [
            {"objective_id": 1, "code": "A1", "pillar": "protection", "title_fr": "A1", "title_en": "A1",
             "lead_org_id": 1, "region_id": 1, "planned_start": date(2025, 1, 1), "planned_end": date(2026, 12, 31),
             "budget_planned": Decimal(100), "budget_spent": Decimal(10), "status": "in_progress"},
            {"objective_id": 1, "code": "A2", "pillar": "protection", "title_fr": "A2", "title_en": "A2",
             "lead_org_id": 1, "region_id": None, "planned_start": date(2025, 1, 1), "planned_end": date(2025, 12, 31),
             "budget_planned": None, "budget_spent": None, "status": "not_started"},
        ])
        c.execute(s.activity_status_history.insert(), [
            {"activity_id": 1, "status": "in_progress", "changed_on": date(2025, 3, 1), "budget_spent": Decimal(10),
             "recorded_by": "x", "recorded_at": datetime(2025, 3, 1, 9)}])
        c.execute(s.projects.insert(), [{"code": "PRJ", "title_fr": "P", "title_en": "P", "starts_on": date(2025, 1, 1),
                                         "ends_on": date(2026, 12, 31)}])
        c.execute(s.project_results.insert(), [{"project_id": 1, "level": "outcome", "code": "OC", "title_fr": "O",
                                                "title_en": "O"}])
        c.execute(s.indicators.insert(), [
            {"result_id": 1, "code": code, "label_fr": code, "label_en": code, "unit": unit, "baseline": 0,
             "baseline_on": date(2025, 1, 1), "target": target, "target_on": date(2026, 12, 31), "direction": "increase",
             "disaggregation": dis, "source": src, "computation": comp}
            for code, unit, target, dis, src, comp in [
                ("NUM", "number", 100, "sex", "manual", None),
                ("PCT", "percent", 90, "none", "manual", None),
                ("PCTS", "percent", 90, "sex", "manual", None),
                ("YN", "yes_no", 1, "none", "manual", None),
                ("CMP", "number", 100, "none", "computed", "cases_identified"),
            ]])
    return engine


@pytest.fixture(scope="module")
def shared(module_engine):
    """For refused inputs: nothing may be written, so the tests can share one database."""
    return _fill(module_engine)


@pytest.fixture
def db(engine):
    return _fill(engine)


def _snapshot(engine) -> dict:
    with engine.connect() as c:
        return {t.name: sorted(map(tuple, c.execute(sa.select(t))), key=repr) for t in WATCHED}


def _status(engine, viewer=COMMITTEE, code="A1", status="completed", on=date(2026, 6, 1), note="Final report",
            budget=None):
    with engine.begin() as c:
        return updates.record_status_change(c, viewer, code, status, on, note, budget, today=TODAY)


def _value(engine, viewer=COMMITTEE, code="NUM", start=date(2026, 1, 1), end=date(2026, 3, 31), value=5.0,
           female=None, male=None, note=None):
    with engine.begin() as c:
        return updates.record_indicator_value(c, viewer, code, start, end, value, female, male, note, today=TODAY)


STATUS_CASES = [
    ("future date", dict(on=date(2026, 7, 1)), "changed_on", "The date {date} is in the future."),
    ("before plan start", dict(on=date(2023, 12, 31)), "changed_on", "The date {date} is before the start of the plan ({start})."),
    ("before last change", dict(on=date(2025, 2, 1)), "changed_on", "The date {date} is before the last recorded change ({last})."),
    ("no date", dict(on=None), "changed_on", "Give the date of the change."),
    ("completed without note", dict(note="  "), "evidence_note",
     "An evidence note is required to mark an activity completed or cancelled."),
    ("cancelled without note", dict(status="cancelled", note=""), "evidence_note",
     "An evidence note is required to mark an activity completed or cancelled."),
    ("note too long", dict(note="x" * 2001), "evidence_note", "The note is too long (at most {max} characters)."),
    ("negative budget", dict(budget=-1.0), "budget_spent", "The budget spent cannot be negative."),
    ("budget over ten times", dict(budget=1000.01), "budget_spent",
     "The budget spent ({spent}) is more than ten times the budget planned ({planned})."),
    ("not a number", dict(budget=float("nan")), "budget_spent", "The budget spent must be a number."),
    ("unknown status", dict(status="finished"), "status", "Choose a status."),
    ("unknown activity", dict(code="ZZ"), "activity", "Unknown activity {code}."),
    ("minister", dict(viewer=MINISTER), "activity", "Your role may not record activity status changes."),
    ("partner", dict(viewer=PARTNER), "activity", "Your role may not record activity status changes."),
    ("other region", dict(viewer=FOCAL_B), "activity", "Activity {code} is outside the regions of your account."),
    ("national, scoped", dict(viewer=FOCAL_B, code="A2"), "activity", "Activity {code} is outside the regions of your account."),
]


@pytest.mark.parametrize("label, kwargs, field, msgid", STATUS_CASES, ids=[c[0] for c in STATUS_CASES])
def test_invalid_status_change_writes_nothing(shared, label, kwargs, field, msgid):
    before = _snapshot(shared)
    problems = _status(shared, **kwargs)
    assert [(p.field, p.msgid) for p in problems] == [(field, msgid)]
    assert _snapshot(shared) == before


def test_problem_params_fill_the_message(shared):
    (p,) = _status(shared, budget=2000.0)
    assert p.params == {"spent": 2000.0, "planned": 100.0}
    assert p.msgid.format(**p.params)  # every placeholder is given


def test_valid_status_change_writes_history_and_audit(db):
    assert _status(db, budget=95.5) == []
    with db.connect() as c:
        row = c.execute(sa.select(s.plan_activities.c.status, s.plan_activities.c.budget_spent)
                        .where(s.plan_activities.c.code == "A1")).one()
        hist = qp.activity_history(c, Filters(start=date(2026, 1, 1), end=TODAY, today=TODAY), "A1")
        audit = c.execute(sa.select(s.audit_log)).mappings().all()
    assert row.status == "completed" and float(row.budget_spent) == 95.5
    assert hist["status"].tolist() == ["completed", "in_progress"]  # the earlier entry is kept
    assert hist.at[0, "evidence_note"] == "Final report" and hist.at[0, "recorded_by"] == "cm"
    assert hist.at[0, "changed_on"] == date(2026, 6, 1) and hist.at[0, "budget_spent"] == 95.5
    assert len(audit) == 1 and (audit[0]["username"], audit[0]["action"], audit[0]["target"]) == ("cm", "update", "A1")
    detail = json.loads(audit[0]["detail"])
    assert detail["status"] == "completed" and detail["previous_status"] == "in_progress" and detail["budget_spent"] == 95.5
    # without a budget, the recorded amount stays; a national activity with no budget accepts any amount ≥ 0
    assert _status(db, code="A2", status="in_progress", note="", budget=None) == []
    assert _status(db, code="A2", status="in_progress", note="", budget=5000.0) == []
    with db.connect() as c:
        assert float(c.execute(sa.select(s.plan_activities.c.budget_spent).where(s.plan_activities.c.code == "A2")).scalar()) == 5000.0
        assert c.execute(sa.select(sa.func.count()).select_from(s.audit_log)).scalar() == 3


VALUE_CASES = [
    ("computed indicator", dict(code="CMP"), "indicator",
     "Indicator {code} is computed from case data: its values cannot be recorded by hand."),
    ("unknown indicator", dict(code="NOPE"), "indicator", "Unknown indicator {code}."),
    ("minister", dict(viewer=MINISTER), "indicator", "Your role may not record indicator values."),
    ("percent above 100", dict(code="PCT", value=100.5), "value",
     "The value {value} is out of range for a percentage (0 to 100)."),
    ("percent negative", dict(code="PCT", value=-1.0), "value",
     "The value {value} is out of range for a percentage (0 to 100)."),
    ("yes/no not 0 or 1", dict(code="YN", value=0.5), "value", "This indicator takes yes (1) or no (0), not {value}."),
    ("negative count", dict(value=-3.0), "value", "The value {value} cannot be negative."),
    ("negative female", dict(value=None, female=-1.0, male=2.0), "female", "The value {value} cannot be negative."),
    ("not a quarter", dict(start=date(2026, 2, 1), end=date(2026, 4, 30)), "period", "The period must be a calendar quarter."),
    ("future quarter", dict(start=date(2026, 7, 1), end=date(2026, 9, 30)), "period",
     "The quarter starting {date} has not begun yet."),
    ("before baseline", dict(start=date(2024, 10, 1), end=date(2024, 12, 31)), "period",
     "The quarter ends before the indicator's baseline date ({date})."),
    ("no period", dict(start=None, end=None), "period", "Choose the quarter the value is for."),
    ("sex for a total-only indicator", dict(code="PCT", value=50.0, female=40.0), "female",
     "This indicator is not disaggregated by sex: give only the total."),
    ("one sex without total", dict(value=None, female=3.0), "value", "Give the total, or both the female and the male values."),
    ("percent by sex without total", dict(code="PCTS", value=None, female=40.0, male=60.0), "value",
     "Give the total: it cannot be derived from the values by sex for this unit."),
    ("sexes above total", dict(value=10.0, female=6.0, male=5.0), "value",
     "The female and male values add up to more than the total ({total})."),
    ("no value", dict(value=None), "value", "Give a value."),
    ("infinite", dict(value=float("inf")), "value", "The value must be a number."),
    ("note too long", dict(note="y" * 2001), "note", "The note is too long (at most {max} characters)."),
]


@pytest.mark.parametrize("label, kwargs, field, msgid", VALUE_CASES, ids=[c[0] for c in VALUE_CASES])
def test_invalid_indicator_value_writes_nothing(shared, label, kwargs, field, msgid):
    before = _snapshot(shared)
    problems = _value(shared, **kwargs)
    assert [(p.field, p.msgid) for p in problems] == [(field, msgid)]
    assert _snapshot(shared) == before


def test_valid_value_appends_and_latest_wins(db):
    f = Filters(start=date(2026, 1, 1), end=TODAY, today=TODAY)
    # total derived from the sexes: 5 + 7
    assert _value(db, viewer=PARTNER, value=None, female=5.0, male=7.0, note="Training report") == []
    with db.connect() as c:
        rows = c.execute(sa.select(s.indicator_values.c.sex, s.indicator_values.c.value, s.indicator_values.c.recorded_by)
                         .order_by(s.indicator_values.c.sex)).all()
        m = qi.results_matrix(c, f, "PRJ", "en")
    assert [tuple(r) for r in rows] == [("all", 12.0, "pa"), ("female", 5.0, "pa"), ("male", 7.0, "pa")]
    num = m[m["code"] == "NUM"].set_index("sex")["manual"]
    assert num.to_dict() == {"all": 12.0, "female": 5.0, "male": 7.0}
    # a correction of the same quarter is a new row; the page shows it at once, the old one stays
    assert _value(db, value=13.0, female=6.0, male=7.0) == []
    with db.connect() as c:
        hist = qi.value_history(c, f, "NUM")
        m = qi.results_matrix(c, f, "PRJ", "en")
        audit = c.execute(sa.select(s.audit_log.c.username, s.audit_log.c.target, s.audit_log.c.detail)
                          .order_by(s.audit_log.c.id)).all()
    assert len(hist) == 6 and hist["current"].sum() == 3
    assert m[(m["code"] == "NUM") & (m["sex"] == "all")]["manual"].iloc[0] == 13.0
    assert [(a.username, a.target) for a in audit] == [("pa", "NUM"), ("cm", "NUM")]
    assert json.loads(audit[1].detail)["correction"] is True and json.loads(audit[0].detail)["values"] == {
        "all": 12.0, "female": 5.0, "male": 7.0}
    # yes/no and percent values in range
    assert _value(db, code="YN", value=1.0) == [] and _value(db, code="PCT", value=100.0) == []
