"""Referral targets (days to decision, from the country profile) and overdue referrals.

A referral's target is the row of ``referral_targets`` for the receiving organisation's type
and the service asked for; failing that, the row for the type with no service. A referral is
**overdue** when it has no decision and ``today − sent_on`` exceeds its target (DOMAIN.md).
Both the bottlenecks page and the case review agenda build on :func:`pending_select`.
"""
from __future__ import annotations

import sqlalchemy as sa

from dashboard import schema
from dashboard.db import date_param, days_diff
from dashboard.filters import Filters

r, o, t = schema.referrals, schema.organisations, schema.referral_targets


def target_days(referrals=r, receivers=None):
    """Scalar SQL expression: the target days of each referral row (NULL when none applies).
    ``receivers`` is the organisations alias joined on ``referrals.to_org_id``."""
    receivers = receivers if receivers is not None else o
    specific = (
        sa.select(t.c.days)
        .where(t.c.org_type == receivers.c.org_type, t.c.service_type == referrals.c.service_type)
        .scalar_subquery()
    )
    general = (
        sa.select(t.c.days).where(t.c.org_type == receivers.c.org_type, t.c.service_type.is_(None)).scalar_subquery()
    )
    return sa.func.coalesce(specific, general)


def pending_select(f: Filters, dialect: str, overdue_only: bool = False) -> sa.Select:
    """Referrals with no decision as of ``f.today`` (sent on or before today), from cases
    matching the filters' regions, sex, age group and exploitation, with:
    referral_id, case_id, from_org_id, to_org_id, service_type, sent_on, age_days,
    target_days, overdue (bool), days_over (age − target, NULL without a target)."""
    cases = schema.cases
    receiver = o.alias("receiver")
    today = date_param(f.today)
    age = days_diff(r.c.sent_on, today, dialect)
    target = target_days(r, receiver)
    stmt = (
        sa.select(
            r.c.id.label("referral_id"),
            r.c.case_id,
            r.c.from_org_id,
            r.c.to_org_id,
            r.c.service_type,
            r.c.sent_on,
            age.label("age_days"),
            target.label("target_days"),
            sa.case((age > target, sa.true()), else_=sa.false()).label("overdue"),
            (age - target).label("days_over"),
        )
        .select_from(r.join(cases, cases.c.id == r.c.case_id).join(receiver, receiver.c.id == r.c.to_org_id))
        .where(r.c.sent_on <= f.today, r.c.decided_on.is_(None), *f.case_clauses(cases))
    )
    if overdue_only:
        stmt = stmt.where(age > target)
    return stmt
