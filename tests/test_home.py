"""Home page figures on the hand-built history of tests/flow_fixture.py (both dialects).

Referrals pending at the end of the period = sent on or before the end, no decision on or
before the end (REFERRALS in tests/flow_fixture.py)."""
from datetime import date

import pytest

from dashboard.filters import Filters
from dashboard.queries import home
from tests.flow_fixture import PERIOD, TODAY, build


@pytest.fixture(scope="module")
def db(module_engine):
    build(module_engine)
    return module_engine


def pending(db, f):
    with db.connect() as conn:
        return home.referrals_pending(conn, f)


def test_referrals_pending_at_the_end_of_the_period(db):
    # 31 March (today): R5 R6 R7 R12 have no decision
    assert pending(db, PERIOD) == 4
    # 15 January: R2 (sent 01-15, decided 01-20) and R12 (never decided); R1 decided 01-13,
    # R11 decided 01-02; R4 is decided after the end (01-22) but was sent after it (01-20)
    jan15 = Filters(start=date(2026, 1, 1), end=date(2026, 1, 15), today=TODAY, preset="custom")
    assert pending(db, jan15) == 2
    # 1 January: R11 (sent 2025-12-20, decided 01-02) and R12
    jan1 = jan15.with_(end=date(2026, 1, 1))
    assert pending(db, jan1) == 2
    # before any referral was sent
    assert pending(db, jan15.with_(start=date(2025, 9, 1), end=date(2025, 9, 30))) == 0


def test_referrals_pending_follow_the_case_filters(db):
    # region B is C4 alone: R7; region A: R5 R6 R12
    assert pending(db, PERIOD.with_(regions=("B",))) == 1
    assert pending(db, PERIOD.with_(regions=("A",))) == 3
    assert pending(db, PERIOD.with_(regions=("A", "B"))) == 4
    # men (C3, C4): R7; forced labour (C1 C2 C3): R5; minors (C2, C4): R5 R7
    assert pending(db, PERIOD.with_(sex=("male",))) == 1
    assert pending(db, PERIOD.with_(exploitation=("forced_labour",))) == 1
    assert pending(db, PERIOD.with_(age_group="minor")) == 2
    # 15 January in region A: R2 (C2) and R12 (C6); nothing in region B
    jan15 = Filters(start=date(2026, 1, 1), end=date(2026, 1, 15), today=TODAY, preset="custom")
    assert pending(db, jan15.with_(regions=("A",))) == 2
    assert pending(db, jan15.with_(regions=("B",))) == 0
    # a scope with no region in common with the choice: nothing
    assert pending(db, PERIOD.with_(regions=("B",), scope=("A",))) == 0


def test_figures_frame(db):
    with db.connect() as conn:
        df = home.figures(conn, PERIOD).set_index("figure")["value"]
    # C1–C5 identified in the first quarter; no shelter stays or plan activities in the fixture
    assert df.to_dict() == {"cases_identified": 5, "referrals_pending": 4, "beds_occupied_today": 0,
                            "activities_delayed": 0}
