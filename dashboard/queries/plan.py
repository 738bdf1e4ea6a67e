"""The National Action Plan: activities by pillar and state, delays, budget, status history.

Definitions (../shared/DOMAIN.md, and the rules this module sets):

- **Selection.** The activities whose planned window (``planned_start`` – ``planned_end``)
  overlaps the chosen period — an activity still open after its due date counts as running
  until it is completed or cancelled — in the chosen regions plus the national activities (no
  region: :func:`dashboard.queries.home.activity_region_clause`), narrowed by the page's
  pillar, lead organisation and recorded status choices (:class:`Selection`).
- **Delayed** = due date (``planned_end``) before today and status not ``completed`` or
  ``cancelled``. **Days late** = today − due date.
- **State** of an activity, one of :data:`STATES` (a partition, used by every summary):
  ``completed`` and ``cancelled`` by their recorded status; ``delayed`` as above; otherwise
  ``not_started`` when its recorded status is ``not_started``; otherwise ``on_track``
  (started and not yet due — this includes an activity its lead has *reported* delayed
  before its due date, counted apart in ``reported_delayed``).
- **Pillar red/amber/green** (:func:`rag`): share delayed = delayed ÷ (activities − cancelled);
  green below 10 %, amber from 10 % to below 25 %, red from 25 %; grey without activities.
- **Budget execution** = budget spent ÷ budget planned, over the activities with a planned budget.
- **Status over time**: at the end of each month of the period (the last one: the period's
  end), each activity counts in the status of its latest history entry dated on or before that
  day (ties: the latest recorded); activities with no entry yet are left out.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa

from dashboard import schema
from dashboard.db import date_param, days_diff, frame
from dashboard.domain import CLOSED_ACTIVITY_STATUSES, N_, PILLARS
from dashboard.filters import Filters
from dashboard.queries.home import activity_region_clause

a, o, reg = schema.plan_activities, schema.organisations, schema.regions
h, obj, plans = schema.activity_status_history, schema.plan_objectives, schema.plans

STATES = ("completed", "on_track", "delayed", "not_started", "cancelled")
STATE_LABELS = {
    "completed": N_("Completed"),
    "on_track": N_("In progress, not yet due"),
    "delayed": N_("Delayed (due date passed)"),
    "not_started": N_("Not started"),
    "cancelled": N_("Cancelled"),
}
RAG_LABELS = {"green": N_("On track"), "amber": N_("Watch"), "red": N_("Off track"), "grey": N_("No activity")}
RAG_GREEN_BELOW, RAG_AMBER_BELOW = 0.10, 0.25


@dataclass(frozen=True)
class Selection:
    """The action plan page's own filters (empty = all)."""

    pillars: tuple[str, ...] = ()
    leads: tuple[str, ...] = ()  # organisation codes
    statuses: tuple[str, ...] = ()  # recorded statuses

    def clauses(self) -> list:
        out = []
        if self.pillars:
            out.append(a.c.pillar.in_(self.pillars))
        if self.leads:
            out.append(a.c.lead_org_id.in_(sa.select(o.c.id).where(o.c.code.in_(self.leads))))
        if self.statuses:
            out.append(a.c.status.in_(self.statuses))
        return out


def _where(f: Filters, sel: Selection | None) -> list:
    """Activities overlapping the period (open ones run past their due date), in the chosen
    regions plus national ones, in the selection."""
    still_open = sa.and_(a.c.status.not_in(sorted(CLOSED_ACTIVITY_STATUSES)), a.c.planned_end < f.today)
    return [a.c.planned_start <= f.end, sa.or_(a.c.planned_end >= f.start, still_open), activity_region_clause(f),
            *((sel or Selection()).clauses())]


def _title(table, lang: str):
    return table.c.title_en if lang == "en" else table.c.title_fr


def state_expr(f: Filters):
    """SQL CASE: the state of each activity row (see the module docstring)."""
    return sa.case(
        (a.c.status == "completed", "completed"),
        (a.c.status == "cancelled", "cancelled"),
        (a.c.planned_end < f.today, "delayed"),
        (a.c.status == "not_started", "not_started"),
        else_="on_track",
    )


def rag(delayed: int, total: int, cancelled: int) -> str:
    """Red/amber/green of a group of activities by its share delayed (module docstring)."""
    base = total - cancelled
    if base <= 0:
        return "grey"
    share = delayed / base
    return "green" if share < RAG_GREEN_BELOW else "amber" if share < RAG_AMBER_BELOW else "red"


def plan_info(conn, f: Filters, lang: str = "fr") -> pd.DataFrame:
    """code, title, starts_on, ends_on, currency of the plan(s) in the database."""
    stmt = sa.select(plans.c.code, _title(plans, lang).label("title"), plans.c.starts_on, plans.c.ends_on,
                     plans.c.currency).order_by(plans.c.starts_on)
    return frame(conn, stmt)


def lead_options(conn, f: Filters) -> pd.DataFrame:
    """code, name of every organisation leading at least one activity."""
    stmt = (sa.select(o.c.code, o.c.name).where(o.c.id.in_(sa.select(a.c.lead_org_id)))
            .order_by(o.c.name))
    return frame(conn, stmt)


def state_counts(conn, f: Filters, sel: Selection | None = None, by: str = "pillar") -> pd.DataFrame:
    """Activities of the selection by ``by`` (pillar | lead) and state: key, state, activities."""
    st = state_expr(f).label("state")
    if by == "pillar":
        key = a.c.pillar.label("key")
        stmt = sa.select(key, st, sa.func.count().label("activities")).select_from(a)
    elif by == "lead":
        key = sa.func.coalesce(o.c.name, "—").label("key")
        stmt = sa.select(key, st, sa.func.count().label("activities")).select_from(
            a.outerjoin(o, o.c.id == a.c.lead_org_id))
    else:
        raise ValueError(f"unknown grouping {by!r}")
    return frame(conn, stmt.where(*_where(f, sel)).group_by(key, st).order_by(key, st))


def pillar_summary(conn, f: Filters, sel: Selection | None = None) -> pd.DataFrame:
    """One row per pillar (all four, in 4P order, or those of the selection):
    pillar, total, completed, on_track, delayed, not_started, cancelled, reported_delayed, rag.

    States as in the module docstring (delayed = due date passed, not completed or
    cancelled); ``reported_delayed`` counts the on-track activities whose lead already
    reported them delayed. ``rag``: share delayed = delayed ÷ (total − cancelled), green
    < 10 %, amber < 25 %, red otherwise, grey without activities."""
    counts = state_counts(conn, f, sel, by="pillar")
    flagged = frame(conn, sa.select(a.c.pillar, sa.func.count().label("n")).where(
        *_where(f, sel), a.c.status == "delayed", a.c.planned_end >= f.today).group_by(a.c.pillar))
    pillars = [p for p in PILLARS if not (sel and sel.pillars) or p in sel.pillars]
    wide = (counts.pivot_table(index="key", columns="state", values="activities", aggfunc="sum")
            if not counts.empty else pd.DataFrame())
    rows = []
    for p in pillars:
        row = {"pillar": p}
        for s in STATES:
            row[s] = int(wide.at[p, s]) if p in wide.index and s in wide.columns and pd.notna(wide.at[p, s]) else 0
        row["total"] = sum(row[s] for s in STATES)
        row["reported_delayed"] = int(flagged.loc[flagged["pillar"] == p, "n"].sum()) if not flagged.empty else 0
        row["rag"] = rag(row["delayed"], row["total"], row["cancelled"])
        rows.append(row)
    cols = ["pillar", "total", *STATES, "reported_delayed", "rag"]
    return pd.DataFrame(rows, columns=cols)


def by_status(conn, f: Filters, sel: Selection | None = None) -> pd.DataFrame:
    """pillar, status, activities: the selection by pillar and *recorded* status."""
    stmt = (sa.select(a.c.pillar, a.c.status, sa.func.count().label("activities")).where(*_where(f, sel))
            .group_by(a.c.pillar, a.c.status).order_by(a.c.pillar, a.c.status))
    return frame(conn, stmt)


def by_lead(conn, f: Filters, sel: Selection | None = None) -> pd.DataFrame:
    """lead, state, activities: the selection by lead organisation and state."""
    return state_counts(conn, f, sel, by="lead").rename(columns={"key": "lead"})


def delayed_activities(conn, f: Filters, sel: Selection | None = None, lang: str = "fr") -> pd.DataFrame:
    """Delayed activities of the selection (due date passed, not completed or cancelled),
    most late first: code, title, pillar, lead, region (None = national), planned_end,
    days_late (today − due date), status (recorded)."""
    late = days_diff(a.c.planned_end, date_param(f.today), conn.dialect.name).label("days_late")
    stmt = (
        sa.select(a.c.code, _title(a, lang).label("title"), a.c.pillar, o.c.name.label("lead"),
                  reg.c.name.label("region"), a.c.planned_end, late, a.c.status)
        .select_from(a.outerjoin(o, o.c.id == a.c.lead_org_id).outerjoin(reg, reg.c.id == a.c.region_id))
        .where(*_where(f, sel), a.c.planned_end < f.today, a.c.status.not_in(sorted(CLOSED_ACTIVITY_STATUSES)))
        .order_by(a.c.planned_end, a.c.code)
    )
    df = frame(conn, stmt)
    if not df.empty:
        df["days_late"] = df["days_late"].astype(int)
    return df


def timeline(conn, f: Filters, sel: Selection | None = None, lang: str = "fr") -> pd.DataFrame:
    """code, title, pillar, lead, planned_start, planned_end, status, state — for a Gantt chart."""
    stmt = (
        sa.select(a.c.code, _title(a, lang).label("title"), a.c.pillar, o.c.name.label("lead"), a.c.planned_start,
                  a.c.planned_end, a.c.status, state_expr(f).label("state"))
        .select_from(a.outerjoin(o, o.c.id == a.c.lead_org_id))
        .where(*_where(f, sel))
        .order_by(a.c.code)
    )
    return frame(conn, stmt)


def budget_by_pillar(conn, f: Filters, sel: Selection | None = None) -> pd.DataFrame:
    """pillar, activities, planned, spent, execution (spent ÷ planned; None when nothing
    planned), over the activities of the selection that have a planned budget. Amounts in
    the plan's currency; an activity with no spending recorded counts 0 spent."""
    stmt = (
        sa.select(a.c.pillar, sa.func.count().label("activities"),
                  sa.func.sum(a.c.budget_planned).label("planned"),
                  sa.func.sum(sa.func.coalesce(a.c.budget_spent, 0)).label("spent"))
        .where(*_where(f, sel), a.c.budget_planned.is_not(None))
        .group_by(a.c.pillar)
    )
    df = frame(conn, stmt)
    if df.empty:
        return pd.DataFrame(columns=["pillar", "activities", "planned", "spent", "execution"])
    df["planned"] = df["planned"].astype(float)
    df["spent"] = df["spent"].astype(float)
    df["execution"] = [s / p if p else None for s, p in zip(df["spent"], df["planned"])]
    order = {p: i for i, p in enumerate(PILLARS)}
    return df.sort_values("pillar", key=lambda s: s.map(order)).reset_index(drop=True)


def month_ends(f: Filters) -> list[tuple[str, date]]:
    """('YYYY-MM', day) for each month of the period: its last day, or the period's end."""
    out, d = [], date(f.start.year, f.start.month, 1)
    while d <= f.end:
        nxt = date(d.year + d.month // 12, d.month % 12 + 1, 1)
        out.append((f"{d:%Y-%m}", min(nxt - timedelta(days=1), f.end)))
        d = nxt
    return out


def status_over_time(conn, f: Filters, sel: Selection | None = None) -> pd.DataFrame:
    """month (YYYY-MM), status, activities: how many activities of the selection stood in
    each recorded status at the end of each month of the period, from the dated status
    history (latest entry on or before that day; ties: latest recorded)."""
    points = month_ends(f)
    if not points:
        return pd.DataFrame(columns=["month", "status", "activities"])
    pts = sa.union_all(*(sa.select(sa.literal(key, sa.String).label("month"), date_param(day).label("as_of"))
                         for key, day in points)).subquery("pts")
    rn = sa.func.row_number().over(
        partition_by=(pts.c.month, h.c.activity_id),
        order_by=(h.c.changed_on.desc(), h.c.recorded_at.desc(), h.c.id.desc()),
    ).label("rn")
    ranked = (
        sa.select(pts.c.month, h.c.activity_id, h.c.status, rn)
        .select_from(pts.join(h, h.c.changed_on <= pts.c.as_of).join(a, a.c.id == h.c.activity_id))
        .where(*_where(f, sel))
        .subquery("ranked")
    )
    stmt = (sa.select(ranked.c.month, ranked.c.status, sa.func.count().label("activities"))
            .where(ranked.c.rn == 1).group_by(ranked.c.month, ranked.c.status)
            .order_by(ranked.c.month, ranked.c.status))
    return frame(conn, stmt)


def activity_options(conn, f: Filters, sel: Selection | None = None, lang: str = "fr") -> pd.DataFrame:
    """code, title, region_code of the activities of the selection, by code (for pickers)."""
    stmt = (sa.select(a.c.code, _title(a, lang).label("title"), reg.c.code.label("region_code"))
            .select_from(a.outerjoin(reg, reg.c.id == a.c.region_id))
            .where(*_where(f, sel)).order_by(a.c.code))
    return frame(conn, stmt)


def activity_detail(conn, f: Filters, code: str, lang: str = "fr") -> pd.DataFrame:
    """One row: code, title, pillar, objective, lead, partners (names joined by '; '), region
    (None = national), planned_start, planned_end, budget_planned, budget_spent, status,
    state, days_late (None unless delayed), indicator, plan_start, currency."""
    late = days_diff(a.c.planned_end, date_param(f.today), conn.dialect.name)
    stmt = (
        sa.select(a.c.id, a.c.code, _title(a, lang).label("title"), a.c.pillar, _title(obj, lang).label("objective"),
                  o.c.name.label("lead"), reg.c.name.label("region"), a.c.planned_start, a.c.planned_end,
                  a.c.budget_planned, a.c.budget_spent, a.c.status, state_expr(f).label("state"),
                  late.label("days_late"), a.c.indicator, plans.c.starts_on.label("plan_start"), plans.c.currency)
        .select_from(a.join(obj, obj.c.id == a.c.objective_id).join(plans, plans.c.id == obj.c.plan_id)
                     .outerjoin(o, o.c.id == a.c.lead_org_id).outerjoin(reg, reg.c.id == a.c.region_id))
        .where(a.c.code == code, activity_region_clause(f))  # a region-scoped user sees only their regions
    )
    df = frame(conn, stmt)
    if df.empty:
        return df
    ap = schema.activity_partners
    partners = conn.execute(sa.select(o.c.name).select_from(ap.join(o, o.c.id == ap.c.organisation_id))
                            .where(ap.c.activity_id == int(df.at[0, "id"])).order_by(o.c.name)).scalars().all()
    df["partners"] = "; ".join(partners)
    for col in ("budget_planned", "budget_spent"):
        df[col] = pd.to_numeric(df[col]).astype(float)
    df["days_late"] = [int(d) if s == "delayed" else None for d, s in zip(df["days_late"], df["state"])]
    return df.drop(columns=["id"])


def activity_history(conn, f: Filters, code: str) -> pd.DataFrame:
    """The status history of one activity, newest first: changed_on, status, evidence_note,
    budget_spent, recorded_by, recorded_at (every entry is kept)."""
    stmt = (
        sa.select(h.c.changed_on, h.c.status, h.c.evidence_note, h.c.budget_spent, h.c.recorded_by, h.c.recorded_at)
        .select_from(h.join(a, a.c.id == h.c.activity_id))
        .where(a.c.code == code, activity_region_clause(f))
        .order_by(h.c.changed_on.desc(), h.c.recorded_at.desc(), h.c.id.desc())
    )
    df = frame(conn, stmt)
    if not df.empty:
        df["budget_spent"] = pd.to_numeric(df["budget_spent"]).astype(float)
    return df
