"""The dialect helpers give the same answers on SQLite and PostgreSQL."""
from datetime import date

import sqlalchemy as sa

from dashboard import schema
from dashboard.db import days_diff, date_param, frame, month_key, percentiles, week_key
from dashboard.migrate import current_revision


def _values(engine, rows):
    t = sa.Table("tmp_values", sa.MetaData(), sa.Column("g", sa.String(8)), sa.Column("v", sa.Integer))
    t.create(engine)
    with engine.begin() as c:
        c.execute(t.insert(), [{"g": g, "v": v} for g, v in rows])
    return t


def test_migrated_to_head(engine):
    assert current_revision(engine) == "0001"
    assert set(sa.inspect(engine).get_table_names()) >= set(schema.metadata.tables)


def test_migration_matches_model(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c), schema.metadata)
    assert diff == []


def test_median_and_p90(engine):
    t = _values(engine, [("a", 3), ("a", 5), ("a", 10), ("b", 2), ("b", 4)] + [("c", i) for i in range(1, 11)] + [("d", None)])
    with engine.connect() as c:
        df = percentiles(c, sa.select(t.c.g, t.c.v), ["g"]).sort_values("g").reset_index(drop=True)
    assert df["g"].tolist() == ["a", "b", "c"]
    assert df["n"].tolist() == [3, 2, 10]
    assert df["median"].tolist() == [5.0, 3.0, 5.5]
    assert [round(x, 6) for x in df["p90"]] == [9.0, 3.8, 9.1]


def test_percentiles_without_keys_and_empty(engine):
    t = _values(engine, [("a", 1), ("a", 2), ("a", 9)])
    with engine.connect() as c:
        df = percentiles(c, sa.select(t.c.v), [])
        assert df.to_dict("records") == [{"n": 3, "median": 2.0, "p90": 7.6}] or round(df.iloc[0]["p90"], 6) == 7.6
        empty = percentiles(c, sa.select(t.c.v).where(t.c.v > 100), [])
    assert empty.empty


def test_month_week_and_days(engine):
    d = engine.dialect.name
    stmt = sa.select(
        month_key(date_param(date(2026, 3, 15)), d).label("m"),
        week_key(date_param(date(2026, 3, 15)), d).label("w"),
        days_diff(date_param(date(2026, 2, 27)), date_param(date(2026, 3, 2)), d).label("days"),
    )
    with engine.connect() as c:
        row = frame(c, stmt).iloc[0].to_dict()
    assert row == {"m": "2026-03", "w": "2026-03-09", "days": 3}
