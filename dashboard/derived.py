"""Derived tables: per-case facts pre-computed from the source rows, so that the pages'
queries read a few index ranges instead of every stage event or service.

* ``stage_spans`` — per case and referral-chain stage it entered (``domain.STAGES`` but
  closed): ``entered`` = its first entry into the stage, ``next_on`` = the first entry
  into the next chain stage the case entered (by chain position, closing included; NULL
  when none), ``days`` = next_on − entered. Source: ``stage_events``.
* ``stage_span_months`` — the stage spans with a next entry, counted per month of
  ``next_on`` (its first day), stage and days. Source: ``stage_spans``.
* ``case_first_service`` — per case with a service: ``first_on`` = the earliest
  ``started_on`` of its services. Source: ``services``.

They hold nothing that the source rows do not, and are never edited by hand: every
writer of the source rows calls :func:`refresh` (a whole rebuild) or
:func:`refresh_cases` (the cases it touched) in the same transaction, so a rolled-back
import leaves them as they were. Today: ``dashboard.bootstrap.fill_demo`` after the demo
fill, ``dashboard.ingest.write`` after each import's writes, and migration 0002 (which
creates them) for the databases that existed before.

A database filled some other way (a hand-built test fixture, say) has empty derived
tables; the queries then read the source rows instead (:func:`is_filled`), which gives
the same answers, only slower. Both refreshes are idempotent and give exactly what a
rebuild from scratch gives (tests/test_derived.py).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa

from dashboard import schema
from dashboard.db import days_diff
from dashboard.domain import STAGES

se, sv = schema.stage_events, schema.services
spans, months, first_service = schema.stage_spans, schema.stage_span_months, schema.case_first_service

CHUNK = 900  # case ids per statement (below SQLite's parameter limit)
POSITION = {s: i for i, s in enumerate(STAGES)}


def spans_select(dialect: str, case_ids: list[int] | None = None) -> sa.Select:
    """The rows of ``stage_spans`` computed from ``stage_events`` (for ``case_ids``, or all)."""
    pos = sa.case(POSITION, value=se.c.stage)
    firsts = sa.select(se.c.case_id, se.c.stage, pos.label("pos"), sa.func.min(se.c.occurred_on).label("entered"))
    firsts = firsts.where(se.c.stage.in_(STAGES))
    if case_ids is not None:
        firsts = firsts.where(se.c.case_id.in_(case_ids))
    firsts = firsts.group_by(se.c.case_id, se.c.stage).subquery("firsts")
    chained = sa.select(
        firsts.c.case_id, firsts.c.stage, firsts.c.entered,
        sa.func.lead(firsts.c.entered).over(partition_by=firsts.c.case_id, order_by=firsts.c.pos).label("next_on"),
    ).subquery("chained")
    return sa.select(
        chained.c.case_id, chained.c.stage, chained.c.entered, chained.c.next_on,
        days_diff(chained.c.entered, chained.c.next_on, dialect).label("days"),
    ).where(chained.c.stage != "closed")


def month_start(col, dialect: str):
    """The first day of a date column's month, as a DATE on both dialects."""
    if dialect == "postgresql":
        return sa.cast(sa.func.date_trunc("month", col), sa.Date)
    return sa.func.date(col, "start of month")


def next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def months_select(dialect: str, start: date | None = None) -> sa.Select:
    """The rows of ``stage_span_months`` computed from ``stage_spans`` (for the month that
    begins on ``start``, or all)."""
    m = month_start(spans.c.next_on, dialect)
    stmt = sa.select(m.label("month"), spans.c.stage, spans.c.days, sa.func.count().label("n"))
    if start is None:
        stmt = stmt.where(spans.c.next_on.is_not(None))
    else:
        stmt = stmt.where(spans.c.next_on >= start, spans.c.next_on < next_month(start))
    return stmt.group_by(m, spans.c.stage, spans.c.days)


def _span_months(conn, case_ids: list[int]) -> set[date]:
    rows = conn.execute(sa.select(spans.c.next_on).where(spans.c.case_id.in_(case_ids), spans.c.next_on.is_not(None))
                        .distinct()).scalars()
    return {date(d.year, d.month, 1) for d in rows}


def first_service_select(case_ids: list[int] | None = None) -> sa.Select:
    """The rows of ``case_first_service`` computed from ``services``."""
    stmt = sa.select(sv.c.case_id, sa.func.min(sv.c.started_on).label("first_on"))
    if case_ids is not None:
        stmt = stmt.where(sv.c.case_id.in_(case_ids))
    return stmt.group_by(sv.c.case_id)


def _fill(conn, table: sa.Table, select: sa.Select) -> None:
    conn.execute(table.insert().from_select([c.name for c in select.selected_columns], select))


def refresh(conn) -> None:
    """Rebuild every derived table from its source rows (inside the caller's transaction)."""
    dialect = conn.dialect.name
    conn.execute(spans.delete())
    _fill(conn, spans, spans_select(dialect))
    conn.execute(months.delete())
    _fill(conn, months, months_select(dialect))
    conn.execute(first_service.delete())
    _fill(conn, first_service, first_service_select())
    if dialect == "postgresql":  # fresh statistics for the planner after a bulk rebuild
        for t in (spans, months, first_service):
            conn.exec_driver_sql(f"ANALYZE {t.name}")


def refresh_cases(conn, case_ids: Iterable[int], stages: bool = True, services: bool = True) -> None:
    """Recompute the derived rows of these cases (after their stage events or services were
    written, inside the same transaction): ``stages`` for ``stage_spans``, ``services``
    for ``case_first_service``."""
    ids = sorted({int(i) for i in case_ids if i is not None})
    dialect = conn.dialect.name
    dirty: set[date] = set()  # months of stage_span_months whose spans changed
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i:i + CHUNK]
        if stages:
            dirty |= _span_months(conn, chunk)
            conn.execute(spans.delete().where(spans.c.case_id.in_(chunk)))
            _fill(conn, spans, spans_select(dialect, chunk))
            dirty |= _span_months(conn, chunk)
        if services:
            conn.execute(first_service.delete().where(first_service.c.case_id.in_(chunk)))
            _fill(conn, first_service, first_service_select(chunk))
    for month in sorted(dirty):
        conn.execute(months.delete().where(months.c.month == month))
        _fill(conn, months, months_select(dialect, month))


def is_filled(conn, table: sa.Table) -> bool:
    """Whether ``table`` has been refreshed at all (see the module doc)."""
    return conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is not None


def latest_stage_entry(conn):
    """The latest date of any referral-chain stage event (None without one): one index
    seek per stage (``ix_stage_events_stage_date``)."""
    latest = [sa.select(sa.func.max(se.c.occurred_on)).where(se.c.stage == s).scalar_subquery() for s in STAGES]
    values = [v for v in conn.execute(sa.select(*latest)).one() if v is not None]
    return max(values) if values else None
