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
    from alembic.script import ScriptDirectory

    from dashboard.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    assert current_revision(engine) == head
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


def test_percentiles_of_repeated_values(engine):
    # 1, 1, 1, 4, 4, 10: median between the 3rd and 4th value (1 and 4) = 2.5;
    # p90: h = 5 * 0.9 = 4.5, between the 5th (4) and 6th (10) value = 7.0
    t = _values(engine, [("a", 1), ("a", 1), ("a", 4), ("a", 1), ("a", 10), ("a", 4), ("b", 7)])
    with engine.connect() as c:
        df = percentiles(c, sa.select(t.c.g, t.c.v), ["g"]).sort_values("g").reset_index(drop=True)
        quartiles = percentiles(c, sa.select(t.c.v), [], quantiles={"q1": 0.25, "q3": 0.75})
    assert df.to_dict("records") == [{"g": "a", "n": 6, "median": 2.5, "p90": 7.0},
                                     {"g": "b", "n": 1, "median": 7.0, "p90": 7.0}]
    # all seven: 1 1 1 4 4 7 10; q1: h = 1.5 → 1; q3: h = 4.5 → 4 + 0.5 * 3 = 5.5
    assert quartiles.to_dict("records") == [{"n": 7, "q1": 1.0, "q3": 5.5}]


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
