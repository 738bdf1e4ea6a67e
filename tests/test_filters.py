"""Filters on their own: presets, previous period, URL round trip, SQL clauses."""
from datetime import date

import pytest
import sqlalchemy as sa

from dashboard import schema
from dashboard.filters import FilterError, Filters, preset_range

TODAY = date(2026, 12, 2)


@pytest.mark.parametrize(
    "preset, expected",
    [
        ("this_quarter", (date(2026, 10, 1), TODAY)),
        ("last_quarter", (date(2026, 7, 1), date(2026, 9, 30))),
        ("year_to_date", (date(2026, 1, 1), TODAY)),
        ("last_12_months", (date(2026, 1, 1), TODAY)),
    ],
)
def test_presets(preset, expected):
    assert preset_range(preset, TODAY) == expected


def test_last_quarter_in_january():
    assert preset_range("last_quarter", date(2027, 1, 15)) == (date(2026, 10, 1), date(2026, 12, 31))
    assert preset_range("last_12_months", date(2027, 1, 15)) == (date(2026, 2, 1), date(2027, 1, 15))


def test_previous_period_has_equal_length():
    f = Filters(start=date(2026, 7, 1), end=date(2026, 9, 30), today=TODAY, preset="last_quarter")
    p = f.previous()
    assert (p.start, p.end, p.days) == (date(2026, 3, 31), date(2026, 6, 30), 92)
    assert f.days == 92


def test_url_round_trip():
    f = Filters(start=date(2026, 2, 3), end=date(2026, 5, 6), today=TODAY, preset="custom", regions=("ML-1", "ML-BKO"),
                sex=("female",), age_group="minor", exploitation=("forced_labour",))
    params = f.to_params()
    assert params == {"period": "custom", "from": "2026-02-03", "to": "2026-05-06", "regions": "ML-1,ML-BKO",
                      "sex": "female", "age": "minor", "exploitation": "forced_labour"}
    assert Filters.from_params(params, TODAY, known_regions={"ML-1", "ML-BKO"}) == f


def test_bad_url_values_fall_back_to_defaults():
    f = Filters.from_params({"period": "custom", "from": "2026-13-01", "to": "x", "regions": "ML-1,NOPE", "sex": "robot",
                             "age": "old"}, TODAY, known_regions={"ML-1"})
    assert (f.preset, f.start, f.end) == ("last_12_months", date(2026, 1, 1), TODAY)
    assert f.regions == ("ML-1",) and f.sex == () and f.age_group is None
    assert Filters.from_params({"period": "weekly"}, TODAY).preset == "last_12_months"


def test_invalid_values_refused():
    with pytest.raises(FilterError):
        Filters(start=date(2026, 2, 1), end=date(2026, 1, 1), today=TODAY)
    with pytest.raises(FilterError):
        Filters(start=date(2026, 1, 1), end=date(2026, 2, 1), today=TODAY, sex=("robot",))


def test_scope_only_narrows():
    base = dict(start=date(2026, 1, 1), end=date(2026, 2, 1), today=TODAY)
    assert Filters(**base).effective_regions() is None
    assert Filters(**base, scope=("A",)).effective_regions() == ("A",)
    assert Filters(**base, regions=("A", "B"), scope=("A",)).effective_regions() == ("A",)
    assert Filters(**base, regions=("B",), scope=("A",)).effective_regions() == ()


def _seed(conn):
    conn.execute(schema.regions.insert(), [{"code": "A", "name": "Alpha"}, {"code": "B", "name": "Beta"}])
    conn.execute(schema.organisations.insert(), [{"code": "O", "name": "Org", "org_type": "NGO", "region_id": 1}])
    rows = [
        ("C1", 1, "female", "9-17", date(2026, 1, 5)),
        ("C2", 1, "male", "30-38", date(2026, 1, 20)),
        ("C3", 2, "female", "18-20", date(2026, 1, 31)),
        ("C4", 2, "female", "0-8", date(2026, 2, 2)),
    ]
    conn.execute(schema.cases.insert(), [
        {"code": c, "region_id": r, "sex": s, "age_band": a, "identified_on": d, "trafficking_status": "actual",
         "case_status": "active", "current_stage": "identification"} for c, r, s, a, d in rows])
    conn.execute(schema.case_exploitation.insert(), [{"case_id": 1, "exploitation_type": "forced_labour"},
                                                     {"case_id": 3, "exploitation_type": "sexual_exploitation"}])


def _codes(engine, f):
    c = schema.cases
    with engine.connect() as conn:
        return conn.execute(sa.select(c.c.code).where(f.in_period(c.c.identified_on), *f.case_clauses()).order_by(c.c.code)).scalars().all()


def test_case_clauses(engine):
    with engine.begin() as conn:
        _seed(conn)
    jan = dict(start=date(2026, 1, 1), end=date(2026, 1, 31), today=TODAY)
    assert _codes(engine, Filters(**jan)) == ["C1", "C2", "C3"]
    assert _codes(engine, Filters(**jan, regions=("B",))) == ["C3"]
    assert _codes(engine, Filters(**jan, sex=("female",))) == ["C1", "C3"]
    assert _codes(engine, Filters(**jan, age_group="minor")) == ["C1"]
    assert _codes(engine, Filters(**jan, age_group="adult")) == ["C2", "C3"]
    assert _codes(engine, Filters(**jan, exploitation=("forced_labour", "sexual_exploitation"))) == ["C1", "C3"]
    assert _codes(engine, Filters(**jan, regions=("B",), scope=("A",))) == []
