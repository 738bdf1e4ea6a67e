"""Bring a database to a usable state: reachable, migrated, and (embedded default only)
filled with demo data on first start. No streamlit here: the app and the CLI share it."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dashboard import derived, schema
from dashboard.db import check_connection, make_engine
from dashboard.migrate import upgrade
from dashboard.settings import DATA_DIR, Settings


def meta_value(conn, key: str) -> str | None:
    return conn.execute(sa.select(schema.meta.c.value).where(schema.meta.c.key == key)).scalar()


def set_meta(conn, key: str, value: str) -> None:
    if meta_value(conn, key) is None:
        conn.execute(schema.meta.insert().values(key=key, value=value))
    else:
        conn.execute(schema.meta.update().where(schema.meta.c.key == key).values(value=value))


def is_demo(conn) -> bool:
    return meta_value(conn, "demo") == "true"


def prepare(settings: Settings, progress=None) -> Engine:
    """Engine for the configured database, migrated; demo data on first start of the
    embedded SQLite default. Raises dashboard.db.DatabaseUnavailable when unreachable."""
    if settings.database_is_default:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    check_connection(engine)
    upgrade(engine)
    if settings.database_is_default:
        with engine.connect() as conn:
            filled = meta_value(conn, "country") is not None
        if not filled:
            fill_demo(engine, settings.country, settings.demo_cases, progress=progress)
    return engine


def fill_demo(engine: Engine, country: str, cases: int, seed: int = 1, progress=None, today=None) -> dict:
    from dashboard import demo, users
    from dashboard.profiles import load_profile

    counts = demo.generate(engine, load_profile(country), cases=cases, seed=seed, today=today, progress=progress)
    with engine.begin() as conn:
        derived.refresh(conn)  # the derived tables of what the demo wrote (dashboard/derived.py)
        users.create_demo_users(conn)
    return counts
