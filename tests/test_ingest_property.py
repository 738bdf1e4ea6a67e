"""Property-based: random malformed files give either a clean import or a report — never
an exception, never a partial write (a refused file leaves every table as it was)."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import schema as s
from dashboard.ingest import kinds, run_import
from tests.ingest_support import TODAY, csv_bytes, dump, with_reference

SETTINGS = settings(max_examples=50, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

JUNK = st.one_of(
    st.just(""), st.just(" "), st.just("45321"), st.just("2025-02-30"), st.just("31/13/2024"), st.just("2099-01-01"),
    st.just("=SUM(A1:A3)"), st.just("NOPE"), st.just("x" * 60), st.just("ML-99"), st.just("-3"), st.just("1e309"),
    st.just("Ségou"), st.just("Feminine"), st.just("closed"), st.just("nan"),
    st.text(max_size=12),
)
GOOD = {
    "code": st.sampled_from(["P-1", "P-2", "P-3", "RT-1"]),
    "region": st.sampled_from(["ML-BKO", "ML-1", "Kayes", "Gao"]),
    "sex": st.sampled_from(["female", "male", "Woman", "Masculine", "unknown"]),
    "age_band": st.sampled_from(["0-8", "9-17", "18-20", "48+", "30--38", "unknown"]),
    "nationality": st.sampled_from(["ML", "BF", "Mali", ""]),
    "trafficking_status": st.sampled_from(["possible", "actual", "Not a victim"]),
    "status_decided_by": st.sampled_from(["police", "", "NGO"]),
    "identified_on": st.sampled_from(["2025-01-15", "15/01/2025", "2024-12-31"]),
    "identified_by": st.sampled_from(["POL-BKO", "", "APDF"]),
    "case_status": st.sampled_from(["active", "follow_up"]),
    "owner": st.sampled_from(["", "DNDS", "Samusocial Mali"]),
    "current_stage": st.sampled_from(["identification", "protection"]),
    "exploitation": st.sampled_from(["", "forced_labour", "forced_labour;servitude"]),
    "control_methods": st.sampled_from(["", "debt_bondage", "Takes earnings|False promises"]),
}
COLUMNS = [c.name for c in kinds.CASES.columns]


@st.composite
def case_files(draw):
    columns = [c for c in COLUMNS if c in kinds.CASES.required or draw(st.booleans())]
    if draw(st.integers(0, 9)) == 0:  # now and then a required column goes missing
        columns.remove(draw(st.sampled_from(columns)))
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        rows.append([draw(st.one_of(GOOD[c], JUNK) if draw(st.integers(0, 4)) == 0 else GOOD[c]) for c in columns])
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    text = csv_bytes(columns, rows, delimiter=delimiter).decode()
    return text.encode(encoding, errors="replace"), columns, rows


def _check_outcome(engine, before, report, after_fn):
    assert report.error is None
    if report.problems:
        assert not report.written and dump(engine) == before  # nothing at all was written
    else:
        assert report.written
        after_fn()


@pytest.fixture
def db(engine):
    return with_reference(engine)


@SETTINGS
@given(case_files())
def test_random_case_files(db, drawn):
    data, columns, rows = drawn
    before = dump(db)
    report = run_import(db, data, "cases", actor="prop", today=TODAY)

    def complete():
        codes = {r[columns.index("code")] for r in rows}
        with db.connect() as conn:
            stored = set(conn.execute(sa.select(s.cases.c.code).where(s.cases.c.code.in_(codes))).scalars())
        assert stored == codes  # every row is there: no partial write
        assert report.totals().inserted + report.totals().updated + report.totals().unchanged == len(rows)

    _check_outcome(db, before, report, complete)


HTCDS_GOOD = {
    "cas_CaseOwner": st.sampled_from(["POL-BKO", "APDF", "Samusocial Mali"]),
    "prs_FirstName": st.sampled_from(["Awa", "Moussa", "AWA", ""]),
    "prs_SecondName": st.sampled_from(["Demo", "Sample", ""]),
    "prs_Birthdate": st.sampled_from(["", "2001-02-03", "03/02/2001", "1960-01-01"]),
    "prs_Gender": st.sampled_from(["Feminine", "Masculine", "NonSpecifiedUnknown", ""]),
    "prs_Citizenship": st.sampled_from(["Mali", "BF", ""]),
    "vic_TypeOfExploitation": st.sampled_from(["Forced labour", "", "Sexual exploitation"]),
    "cas_Status": st.sampled_from(["Active", "Closed", ""]),
    "cas_ReferringOrganisation": st.sampled_from(["", "DNDS", "BNCE"]),
    "cas_IncomingReferralDate": st.sampled_from(["2025-01-10", "2025-02-01"]),
    "cas_ReferredOrganisation": st.sampled_from(["", "IOM-ML"]),
    "cas_OutgoingReferralDate": st.sampled_from(["", "2025-03-01"]),
}


@st.composite
def htcds_files(draw):
    columns = list(HTCDS_GOOD)
    rows = []
    for _ in range(draw(st.integers(1, 6))):
        rows.append([draw(st.one_of(HTCDS_GOOD[c], JUNK) if draw(st.integers(0, 5)) == 0 else HTCDS_GOOD[c])
                     for c in columns])
    return csv_bytes(columns, rows), rows


@SETTINGS
@given(htcds_files())
def test_random_htcds_sheets(db, drawn):
    data, rows = drawn
    before = dump(db)
    report = run_import(db, data, "htcds", actor="prop", today=TODAY, hash_key="p" * 32)

    def complete():
        names = {"Awa", "Moussa", "AWA", "Demo", "Sample"}
        stored = " ".join(v for v in _texts(db))
        assert not any(n in stored.split() for n in names)  # names never stored, even in odd files
        with db.connect() as conn:
            n = conn.execute(sa.select(sa.func.count()).select_from(s.cases)
                             .where(s.cases.c.person_hash.is_not(None))).scalar()
        assert n >= 1 and report.counts["cases"].inserted + report.counts["cases"].updated + \
            report.counts["cases"].unchanged <= len(rows)

    _check_outcome(db, before, report, complete)


def _texts(engine):
    from tests.ingest_support import text_values

    return text_values(engine)


@pytest.fixture
def sqlite_db(sqlite_engine):
    """Files refused while reading never reach a write: one dialect is enough for them."""
    return with_reference(sqlite_engine)


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.binary(max_size=400), st.sampled_from(list(kinds.KINDS)))
def test_random_bytes(sqlite_db, data, kind):
    db = sqlite_db
    before = dump(db)
    report = run_import(db, data, kind, actor="prop", today=TODAY, hash_key="p" * 32)
    assert report.problems and not report.written and dump(db) == before


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.lists(st.one_of(st.none(), st.integers(-10, 50000), st.floats(allow_nan=True),
                                    st.datetimes(), st.text(st.characters(blacklist_categories=("Cc", "Cs")),
                                                            max_size=8)), min_size=1, max_size=9),
                max_size=5))
def test_random_xlsx_cells(sqlite_db, cells):
    from openpyxl import Workbook

    db = sqlite_db
    wb = Workbook()
    ws = wb.active
    ws.append([c.name for c in kinds.REFERRALS.columns])
    for row in cells:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    before = dump(db)
    report = run_import(db, buf.getvalue(), "referrals", actor="prop", today=TODAY)
    assert report.problems and not report.written and dump(db) == before  # no case exists: never clean
