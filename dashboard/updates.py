"""Validated writes of the update forms: plan activity status changes and manual indicator values.

Each ``record_*`` function takes a connection inside a transaction (``engine.begin()``), the
viewer and the form's values. It checks everything first and returns the list of
:class:`Problem` found; when there is any, nothing is written. Otherwise it writes the change,
keeps the history (an activity's status history gets a new entry; an indicator value is
always a new row, never an overwrite: the latest ``recorded_at`` of a period wins) and
writes the audit log entry, all in the caller's transaction.

Problems carry an English msgid (marked for translation) and the values to put in it; pages
translate them: ``_(p.msgid).format(**p.params)``.

Who may record: activity status changes — administrators and committee members (a
committee member limited to some regions: only the activities of those regions);
indicator values — administrators, committee members and partner staff.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from dashboard import audit, schema
from dashboard.domain import ACTIVITY_STATUSES, CLOSED_ACTIVITY_STATUSES, N_
from dashboard.privacy import Viewer
from dashboard.queries.indicators import quarter_end, quarter_start

STATUS_ROLES = frozenset({"admin", "committee"})
VALUE_ROLES = frozenset({"admin", "committee", "partner"})
MAX_NOTE = 2000
MAX_BUDGET_FACTOR = 10


@dataclass(frozen=True)
class Problem:
    msgid: str
    field: str
    params: dict = field(default_factory=dict)


# ---------------------------------------------------------------- activity status
def validate_status_change(conn, viewer: Viewer, activity_code: str, status: str, changed_on: date | None,
                           evidence_note: str | None, budget_spent: float | None, today: date) -> list[Problem]:
    """Problems with a status change (empty list: it may be written)."""
    a, plans, obj, reg = schema.plan_activities, schema.plans, schema.plan_objectives, schema.regions
    problems: list[Problem] = []
    if viewer.role not in STATUS_ROLES:
        return [Problem(N_("Your role may not record activity status changes."), "activity")]
    row = conn.execute(
        sa.select(a.c.id, a.c.budget_planned, plans.c.starts_on, reg.c.code.label("region"))
        .select_from(a.join(obj, obj.c.id == a.c.objective_id).join(plans, plans.c.id == obj.c.plan_id)
                     .outerjoin(reg, reg.c.id == a.c.region_id))
        .where(a.c.code == activity_code)
    ).first()
    if row is None:
        return [Problem(N_("Unknown activity {code}."), "activity", {"code": activity_code})]
    if viewer.regions is not None and row.region not in viewer.regions:
        return [Problem(N_("Activity {code} is outside the regions of your account."), "activity",
                        {"code": activity_code})]
    if status not in ACTIVITY_STATUSES:
        problems.append(Problem(N_("Choose a status."), "status"))
    if changed_on is None:
        problems.append(Problem(N_("Give the date of the change."), "changed_on"))
    else:
        last = conn.execute(sa.select(sa.func.max(schema.activity_status_history.c.changed_on))
                            .where(schema.activity_status_history.c.activity_id == row.id)).scalar()
        if changed_on > today:
            problems.append(Problem(N_("The date {date} is in the future."), "changed_on", {"date": changed_on}))
        elif changed_on < _as_date(row.starts_on):
            problems.append(Problem(N_("The date {date} is before the start of the plan ({start})."), "changed_on",
                                    {"date": changed_on, "start": _as_date(row.starts_on)}))
        elif last is not None and changed_on < _as_date(last):
            problems.append(Problem(N_("The date {date} is before the last recorded change ({last})."), "changed_on",
                                    {"date": changed_on, "last": _as_date(last)}))
    note = (evidence_note or "").strip()
    if status in CLOSED_ACTIVITY_STATUSES and not note:
        problems.append(Problem(N_("An evidence note is required to mark an activity completed or cancelled."),
                                "evidence_note"))
    if len(note) > MAX_NOTE:
        problems.append(Problem(N_("The note is too long (at most {max} characters)."), "evidence_note",
                                {"max": MAX_NOTE}))
    if budget_spent is not None:
        if not _finite(budget_spent):
            problems.append(Problem(N_("The budget spent must be a number."), "budget_spent"))
        elif budget_spent < 0:
            problems.append(Problem(N_("The budget spent cannot be negative."), "budget_spent"))
        elif row.budget_planned is not None and budget_spent > MAX_BUDGET_FACTOR * float(row.budget_planned):
            problems.append(Problem(N_("The budget spent ({spent}) is more than ten times the budget planned ({planned})."),
                                    "budget_spent", {"spent": budget_spent, "planned": float(row.budget_planned)}))
    return problems


def record_status_change(conn, viewer: Viewer, activity_code: str, status: str, changed_on: date | None,
                         evidence_note: str | None = None, budget_spent: float | None = None,
                         today: date | None = None) -> list[Problem]:
    """Validate, then set the activity's status (and budget spent when given), append its
    status history and write the audit log — or write nothing and return the problems."""
    today = today or date.today()
    problems = validate_status_change(conn, viewer, activity_code, status, changed_on, evidence_note, budget_spent, today)
    if problems:
        return problems
    a = schema.plan_activities
    before = conn.execute(sa.select(a.c.id, a.c.status, a.c.budget_spent).where(a.c.code == activity_code)).first()
    note = (evidence_note or "").strip() or None
    values = {"status": status}
    money = None
    if budget_spent is not None:
        money = Decimal(f"{float(budget_spent):.2f}")
        values["budget_spent"] = money
    conn.execute(a.update().where(a.c.id == before.id).values(**values))
    conn.execute(schema.activity_status_history.insert().values(
        activity_id=before.id, status=status, changed_on=changed_on, evidence_note=note, budget_spent=money,
        recorded_by=viewer.username, recorded_at=audit.now()))
    audit.record(conn, viewer.username, "update", target=activity_code, detail={
        "kind": "activity_status", "status": status, "previous_status": before.status,
        "changed_on": changed_on.isoformat(), "budget_spent": None if money is None else float(money),
        "previous_budget_spent": None if before.budget_spent is None else float(before.budget_spent),
        "evidence_note": note is not None,
    })
    return []


# ---------------------------------------------------------------- indicator values
UNIT_RANGES = {"percent": (0.0, 100.0), "yes_no": (0.0, 1.0), "number": (0.0, None), "days": (0.0, None)}


def _range_problems(unit: str, value: float, field_name: str) -> list[Problem]:
    if not _finite(value):
        return [Problem(N_("The value must be a number."), field_name)]
    if unit == "yes_no" and value not in (0, 1):
        return [Problem(N_("This indicator takes yes (1) or no (0), not {value}."), field_name, {"value": value})]
    lo, hi = UNIT_RANGES.get(unit, (0.0, None))
    if value < lo or (hi is not None and value > hi):
        if hi is None:
            return [Problem(N_("The value {value} cannot be negative."), field_name, {"value": value})]
        return [Problem(N_("The value {value} is out of range for a percentage (0 to 100)."), field_name,
                        {"value": value})]
    return []


def validate_indicator_value(conn, viewer: Viewer, indicator_code: str, period_start: date | None,
                             period_end: date | None, value: float | None, female: float | None = None,
                             male: float | None = None, note: str | None = None,
                             today: date | None = None) -> tuple[list[Problem], dict[str, float]]:
    """Problems with a manual indicator value, and the rows it would write ({sex: value})."""
    today = today or date.today()
    i = schema.indicators
    if viewer.role not in VALUE_ROLES:
        return [Problem(N_("Your role may not record indicator values."), "indicator")], {}
    row = conn.execute(sa.select(i.c.id, i.c.unit, i.c.source, i.c.disaggregation, i.c.baseline_on)
                       .where(i.c.code == indicator_code)).first()
    if row is None:
        return [Problem(N_("Unknown indicator {code}."), "indicator", {"code": indicator_code})], {}
    if row.source != "manual":
        return [Problem(N_("Indicator {code} is computed from case data: its values cannot be recorded by hand."),
                        "indicator", {"code": indicator_code})], {}
    problems: list[Problem] = []
    if period_start is None or period_end is None:
        problems.append(Problem(N_("Choose the quarter the value is for."), "period"))
    else:
        if period_start != quarter_start(period_start) or period_end != quarter_end(period_start):
            problems.append(Problem(N_("The period must be a calendar quarter."), "period"))
        if period_start > today:
            problems.append(Problem(N_("The quarter starting {date} has not begun yet."), "period",
                                    {"date": period_start}))
        if period_end < _as_date(row.baseline_on):
            problems.append(Problem(N_("The quarter ends before the indicator's baseline date ({date})."), "period",
                                    {"date": _as_date(row.baseline_on)}))
    by_sex = {k: v for k, v in (("female", female), ("male", male)) if v is not None}
    if by_sex and row.disaggregation != "sex":
        problems.append(Problem(N_("This indicator is not disaggregated by sex: give only the total."), "female"))
    for sex, v in by_sex.items():
        problems += _range_problems(row.unit, v, sex)
    rows: dict[str, float] = {}
    if value is not None:
        problems += _range_problems(row.unit, value, "value")
        rows["all"] = float(value)
    elif by_sex:
        if row.unit != "number":
            problems.append(Problem(N_("Give the total: it cannot be derived from the values by sex for this unit."),
                                    "value"))
        elif len(by_sex) < 2:
            problems.append(Problem(N_("Give the total, or both the female and the male values."), "value"))
        elif all(_finite(v) for v in by_sex.values()):
            rows["all"] = float(sum(by_sex.values()))
    else:
        problems.append(Problem(N_("Give a value."), "value"))
    if (value is not None and row.unit == "number" and len(by_sex) == 2 and all(_finite(v) for v in by_sex.values())
            and _finite(value) and sum(by_sex.values()) > value):
        problems.append(Problem(N_("The female and male values add up to more than the total ({total})."), "value",
                                {"total": value}))
    if len((note or "").strip()) > MAX_NOTE:
        problems.append(Problem(N_("The note is too long (at most {max} characters)."), "note", {"max": MAX_NOTE}))
    if row.disaggregation == "sex":
        rows.update({k: float(v) for k, v in by_sex.items()})
    return problems, (rows if not problems else {})


def record_indicator_value(conn, viewer: Viewer, indicator_code: str, period_start: date | None,
                           period_end: date | None, value: float | None, female: float | None = None,
                           male: float | None = None, note: str | None = None,
                           today: date | None = None) -> list[Problem]:
    """Validate, then append the value rows (total, and by sex when given) and write the audit
    log — or write nothing and return the problems. Earlier values of the same period stay."""
    problems, rows = validate_indicator_value(conn, viewer, indicator_code, period_start, period_end, value, female,
                                              male, note, today)
    if problems:
        return problems
    ind_id = conn.execute(sa.select(schema.indicators.c.id).where(schema.indicators.c.code == indicator_code)).scalar()
    iv = schema.indicator_values
    previous = conn.execute(sa.select(sa.func.count()).select_from(iv).where(
        iv.c.indicator_id == ind_id, iv.c.period_start == period_start, iv.c.period_end == period_end)).scalar()
    at = audit.now()
    text = (note or "").strip() or None
    conn.execute(iv.insert(), [
        {"indicator_id": ind_id, "period_start": period_start, "period_end": period_end, "sex": sex, "value": v,
         "note": text, "recorded_by": viewer.username, "recorded_at": at}
        for sex, v in rows.items()
    ])
    audit.record(conn, viewer.username, "update", target=indicator_code, detail={
        "kind": "indicator_value", "period_start": period_start.isoformat(), "period_end": period_end.isoformat(),
        "values": rows, "note": text is not None, "correction": bool(previous),
    })
    return []


# ---------------------------------------------------------------- helpers
def _finite(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value
