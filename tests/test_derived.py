"""The derived tables (dashboard/derived.py) equal a computation from scratch of their
source rows — after a demo fill, after imports that change stage events or services, after
a refresh run twice — and a failed or dry-run import leaves them as they were (both dialects).

"From scratch" here is plain Python over the source rows, not the SQL of the refresh."""
from datetime import date

import pytest
import sqlalchemy as sa

from dashboard import audit, bootstrap, derived, schema
from dashboard.domain import STAGES
from dashboard.ingest import run_import
from dashboard.ingest import write as ingest_write
from dashboard.ingest.report import Counts
from tests.ingest_support import filled_csv_template

TODAY = date(2026, 6, 30)
POS = {s: i for i, s in enumerate(STAGES)}


@pytest.fixture
def demo(engine):
    bootstrap.fill_demo(engine, "mali", 120, seed=5, today=TODAY)
    return engine


def expected_spans(conn) -> list[tuple]:
    se = schema.stage_events
    firsts: dict[int, dict[str, date]] = {}
    for case_id, stage, on in conn.execute(sa.select(se.c.case_id, se.c.stage, se.c.occurred_on)):
        if stage in POS:
            got = firsts.setdefault(case_id, {})
            got[stage] = min(on, got.get(stage, on))
    rows = []
    for case_id, stages in firsts.items():
        chain = sorted(stages, key=POS.get)
        for i, stage in enumerate(chain):
            if stage == "closed":
                continue
            nxt = stages[chain[i + 1]] if i + 1 < len(chain) else None
            rows.append((case_id, stage, stages[stage], nxt, (nxt - stages[stage]).days if nxt else None))
    return sorted(rows, key=repr)


def expected_first_service(conn) -> list[tuple]:
    sv = schema.services
    first: dict[int, date] = {}
    for case_id, on in conn.execute(sa.select(sv.c.case_id, sv.c.started_on)):
        first[case_id] = min(on, first.get(case_id, on))
    return sorted(first.items(), key=repr)


def expected_months(spans: list[tuple]) -> list[tuple]:
    counts: dict[tuple, int] = {}
    for _case, stage, _entered, nxt, days in spans:
        if nxt is not None:
            key = (nxt.replace(day=1), stage, days)
            counts[key] = counts.get(key, 0) + 1
    return sorted(((*k, n) for k, n in counts.items()), key=repr)


def actual(conn) -> tuple[list, list, list]:
    sp, sm, fs = schema.stage_spans, schema.stage_span_months, schema.case_first_service
    spans = [tuple(r) for r in conn.execute(sa.select(sp.c.case_id, sp.c.stage, sp.c.entered, sp.c.next_on, sp.c.days))]
    months = [tuple(r) for r in conn.execute(sa.select(sm.c.month, sm.c.stage, sm.c.days, sm.c.n))]
    first = [tuple(r) for r in conn.execute(sa.select(fs.c.case_id, fs.c.first_on))]
    return sorted(spans, key=repr), sorted(months, key=repr), sorted(first, key=repr)


def assert_fresh(engine):
    with engine.connect() as conn:
        spans, months, first = actual(conn)
        assert spans == expected_spans(conn)
        assert months == expected_months(spans)
        assert first == expected_first_service(conn)
    return spans, months, first


def _code(conn, case_id):
    return conn.execute(sa.select(schema.cases.c.code).where(schema.cases.c.id == case_id)).scalar()


def _import(engine, kind, rows, **kw):
    return run_import(engine, filled_csv_template(kind, "en", rows), kind, actor="t", today=TODAY, **kw)


def test_demo_fill_fills_the_derived_tables(demo):
    spans, months, first = assert_fresh(demo)
    assert len(spans) > 120 and len(first) > 50 and len(months) > 20
    assert any(row[3] is None for row in spans) and any(row[3] is not None for row in spans)


def test_refresh_is_idempotent(demo):
    before = assert_fresh(demo)
    with demo.begin() as conn:
        derived.refresh(conn)
        derived.refresh(conn)
    assert assert_fresh(demo) == before
    with demo.begin() as conn:
        ids = conn.execute(sa.select(schema.cases.c.id)).scalars().all()
        derived.refresh_cases(conn, ids)
        derived.refresh_cases(conn, ids[:7])
    assert assert_fresh(demo) == before


def test_import_of_stage_events_updates_the_spans(demo):
    sp = schema.stage_spans
    with demo.connect() as conn:
        # a case still in identification, and one that has gone further
        waiting = conn.execute(sa.select(sp.c.case_id).where(sp.c.stage == "identification", sp.c.next_on.is_(None))
                               .order_by(sp.c.case_id)).scalars().first()
        moved = conn.execute(sa.select(sp.c.case_id, sp.c.entered).where(sp.c.stage == "identification",
                                                                          sp.c.next_on.is_not(None))
                             .order_by(sp.c.case_id)).first()
        a, b = _code(conn, waiting), _code(conn, moved.case_id)
        entered_a = conn.execute(sa.select(sp.c.entered).where(sp.c.case_id == waiting,
                                                               sp.c.stage == "identification")).scalar()
    # a: now in protection (skipping immediate assistance); b: an earlier, second identification
    report = _import(demo, "stage_events", [[a, "protection", entered_a, None, None],
                                            [b, "identification", moved.entered.replace(day=1), None, None]])
    assert report.written, report.problems
    assert_fresh(demo)
    with demo.connect() as conn:
        row = conn.execute(sa.select(sp.c.next_on, sp.c.days).where(sp.c.case_id == waiting,
                                                                    sp.c.stage == "identification")).one()
        assert tuple(row) == (entered_a, 0)
        assert conn.execute(sa.select(sp.c.entered).where(sp.c.case_id == moved.case_id,
                                                          sp.c.stage == "identification")).scalar() \
            == moved.entered.replace(day=1)


def test_import_of_services_updates_first_service(demo):
    sv, fs = schema.services, schema.case_first_service
    with demo.connect() as conn:
        served = conn.execute(sa.select(sv.c.code, sv.c.case_id, sv.c.service_type, sv.c.started_on)
                              .order_by(sv.c.started_on, sv.c.code)).first()
        other = conn.execute(sa.select(schema.cases.c.id).where(
            schema.cases.c.id.not_in(sa.select(sv.c.case_id))).order_by(schema.cases.c.id)).scalar()
        provider = conn.execute(sa.select(schema.organisations.c.code).order_by(schema.organisations.c.id)).scalar()
        first_code, served_code, other_code = served.code, _code(conn, served.case_id), _code(conn, other)
    # the earliest service moves to a case that had none; a new, early service for another case
    report = _import(demo, "services", [
        [first_code, other_code, None, served.service_type, provider, served.started_on, None],
        ["SV-NEW", served_code, None, "medical", provider, date(2020, 1, 1), None],
    ])
    assert report.written, report.problems
    assert_fresh(demo)
    with demo.connect() as conn:
        assert conn.execute(sa.select(fs.c.first_on).where(fs.c.case_id == other)).scalar() == served.started_on
        assert conn.execute(sa.select(fs.c.first_on).where(fs.c.case_id == served.case_id)).scalar() \
            == date(2020, 1, 1)


def test_identification_events_of_case_sheets_update_the_spans(demo):
    with demo.connect() as conn:
        ids = conn.execute(sa.select(schema.cases.c.id).order_by(schema.cases.c.id).limit(3)).scalars().all()
    with demo.begin() as conn:  # as write_htcds does: identification moved earlier, or new
        ingest_write._identification_events(conn, [(ids[0], date(2019, 5, 1), None), (ids[1], date(2019, 6, 1), None)],
                                            Counts())
    assert_fresh(demo)


def test_failed_or_dry_import_leaves_them_unchanged(demo, monkeypatch):
    before = assert_fresh(demo)
    with demo.connect() as conn:
        code = _code(conn, conn.execute(sa.select(schema.cases.c.id).order_by(schema.cases.c.id)).scalar())
    rows = [[code, "return_reintegration", date(2026, 6, 1), None, None]]
    dry = _import(demo, "stage_events", rows, dry_run=True)
    assert not dry.written and dry.counts["stage_events"].inserted == 1
    assert assert_fresh(demo) == before

    def refuse(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT INTO audit_log", {}, Exception("disk full"))

    monkeypatch.setattr(audit, "record", refuse)  # fails after the events and spans were written
    failed = _import(demo, "stage_events", rows)
    assert not failed.written and failed.error
    assert assert_fresh(demo) == before
