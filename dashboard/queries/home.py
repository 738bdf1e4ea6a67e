"""The four figures of the home page, each one SQL aggregate."""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from dashboard import schema
from dashboard.db import frame
from dashboard.domain import CLOSED_ACTIVITY_STATUSES
from dashboard.filters import Filters

c, r, st_, a = schema.cases, schema.referrals, schema.shelter_stays, schema.plan_activities


def cases_identified(conn, f: Filters) -> int:
    """Cases whose identification date falls in the period."""
    stmt = sa.select(sa.func.count()).select_from(c).where(f.in_period(c.c.identified_on), *f.case_clauses())
    return int(conn.execute(stmt).scalar())



def referrals_pending(conn, f: Filters) -> int:
    """Referrals sent by the end of the period and still without a decision on that day.

    Counted in two parts that each follow the index on ``decided_on``: no decision at all,
    and decided after the end of the period (only when the period ends before today, a
    handful of days' decisions). The sent date is checked on those few rows only: a
    condition on it would make SQLite walk every referral sent by then instead."""
    # the case filters as a per-row check (EXISTS), so that neither database starts from
    # every case of a region instead of from these few referrals
    where = [sa.exists().where(c.c.id == r.c.case_id, *f.case_clauses())] if f.restricts_cases() else []
    undecided = (
        sa.select(sa.func.count()).select_from(r)
        .where(r.c.decided_on.is_(None), r.c.sent_on <= f.end, *where)
        .scalar_subquery()
    )
    decided_later = (
        sa.select(sa.func.coalesce(sa.func.sum(sa.case((r.c.sent_on <= f.end, 1), else_=0)), 0))
        .select_from(r)
        .where(r.c.decided_on > f.end, *where)
        .scalar_subquery()
    )
    return int(conn.execute(sa.select(undecided + decided_later)).scalar())


def beds_occupied_today(conn, f: Filters) -> int:
    """People in a shelter tonight (entry ≤ today < exit, open stays included), by the
    shelter's region."""
    sh = schema.shelters
    stmt = (
        sa.select(sa.func.count())
        .select_from(st_.join(sh, sh.c.id == st_.c.shelter_id))
        .where(st_.c.entered_on <= f.today, sa.or_(st_.c.exited_on.is_(None), st_.c.exited_on > f.today),
               f.region_clause(sh.c.region_id))
    )
    return int(conn.execute(stmt).scalar())


def activity_region_clause(f: Filters):
    """Plan activities of the chosen regions, plus national ones (no region)."""
    if f.effective_regions() is None:
        return sa.true()
    return sa.or_(a.c.region_id.is_(None), f.region_clause(a.c.region_id))


def activities_delayed(conn, f: Filters) -> int:
    """Activities whose planned end has passed (as of today) and that are not completed or cancelled."""
    stmt = sa.select(sa.func.count()).select_from(a).where(
        a.c.planned_end < f.today, a.c.status.not_in(sorted(CLOSED_ACTIVITY_STATUSES)), activity_region_clause(f)
    )
    return int(conn.execute(stmt).scalar())


def identified_per_month(conn, f: Filters) -> pd.DataFrame:
    """month (YYYY-MM), cases — identifications in the period by month."""
    from dashboard.db import month_key

    m = month_key(c.c.identified_on, conn.dialect.name).label("month")
    stmt = sa.select(m, sa.func.count().label("cases")).where(f.in_period(c.c.identified_on), *f.case_clauses()).group_by(m).order_by(m)
    return frame(conn, stmt)


def figures(conn, f: Filters) -> pd.DataFrame:
    """All four headline counts in one small frame (figure, value)."""
    return pd.DataFrame(
        {
            "figure": ["cases_identified", "referrals_pending", "beds_occupied_today", "activities_delayed"],
            "value": [cases_identified(conn, f), referrals_pending(conn, f), beds_occupied_today(conn, f), activities_delayed(conn, f)],
        }
    )
