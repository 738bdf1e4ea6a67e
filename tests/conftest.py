"""Shared fixtures: fresh, migrated databases on SQLite and PostgreSQL.

Every test that takes ``engine`` (function scope) or ``module_engine`` (module scope)
runs twice, once per dialect. PostgreSQL comes from NRM_TEST_PG_URL (an admin URL,
default: the local server on 127.0.0.1:5432). Where none answers, PostgreSQL runs are
skipped, unless NRM_REQUIRE_POSTGRES=1 (CI), where they fail.

Fresh databases are cheap: a migrated template is built once per worker, then each
test gets a copy (CREATE DATABASE ... TEMPLATE on PostgreSQL, a file copy on SQLite).
"""
from __future__ import annotations

import itertools
import os
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard.db import make_engine
from dashboard.migrate import upgrade

PG_ADMIN_URL = os.environ.get("NRM_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REQUIRE_PG = os.environ.get("NRM_REQUIRE_POSTGRES") == "1"
DIALECTS = ["sqlite", "postgresql"]
_counter = itertools.count()


def _pg_admin():
    return make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


class DatabaseFactory:
    """Makes fresh migrated databases for one test session (one per xdist worker)."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.tag = f"{os.environ.get('PYTEST_XDIST_WORKER', 'gw')}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self._sqlite_template: Path | None = None
        self._pg_template: str | None = None
        self._pg_ok: bool | None = None
        self._created: list[str] = []

    # -- availability
    def pg_available(self) -> bool:
        if self._pg_ok is None:
            try:
                eng = _pg_admin()
                with eng.connect() as c:
                    c.execute(sa.text("SELECT 1"))
                eng.dispose()
                self._pg_ok = True
            except Exception:  # noqa: BLE001 - any failure means "not here"
                self._pg_ok = False
        return self._pg_ok

    def require(self, dialect: str) -> None:
        if dialect == "postgresql" and not self.pg_available():
            if REQUIRE_PG:
                pytest.fail(f"PostgreSQL is required (NRM_REQUIRE_POSTGRES=1) but {PG_ADMIN_URL} does not answer")
            pytest.skip("no PostgreSQL server answers (set NRM_TEST_PG_URL)")

    # -- creation
    def url(self, dialect: str) -> str:
        self.require(dialect)
        n = next(_counter)
        if dialect == "sqlite":
            if self._sqlite_template is None:
                self._sqlite_template = self.tmp / "template.db"
                eng = make_engine(f"sqlite:///{self._sqlite_template}")
                upgrade(eng)
                eng.dispose()
            path = self.tmp / f"db{n}.db"
            shutil.copy(self._sqlite_template, path)
            return f"sqlite:///{path}"
        admin = _pg_admin()
        try:
            with admin.connect() as c:
                if self._pg_template is None:
                    name = f"nrm_tpl_{self.tag}"
                    c.execute(sa.text(f'CREATE DATABASE "{name}"'))
                    self._created.append(name)
                    eng = make_engine(_pg_url(name), poolclass=sa.pool.NullPool)
                    upgrade(eng)
                    eng.dispose()
                    self._pg_template = name
                name = f"nrm_t_{self.tag}_{n}"
                c.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{self._pg_template}"'))
                self._created.append(name)
        finally:
            admin.dispose()
        return _pg_url(name)

    def engine(self, dialect: str):
        return make_engine(self.url(dialect))

    def drop(self, engine) -> None:
        url = engine.url
        engine.dispose()
        if url.get_backend_name() == "postgresql":
            admin = _pg_admin()
            with admin.connect() as c:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            admin.dispose()
            if url.database in self._created:
                self._created.remove(url.database)

    def close(self) -> None:
        if not self._created:
            return
        admin = _pg_admin()
        with admin.connect() as c:
            for name in reversed(self._created):
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _pg_url(database: str) -> str:
    return sa.engine.make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def db_factory(tmp_path_factory):
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    factory.close()


@pytest.fixture(params=DIALECTS)
def engine(request, db_factory):
    """A fresh, migrated, empty database (function scope), on each dialect."""
    eng = db_factory.engine(request.param)
    yield eng
    db_factory.drop(eng)


@pytest.fixture(scope="module", params=DIALECTS)
def module_engine(request, db_factory):
    """A fresh, migrated, empty database shared by one module's tests, on each dialect.
    Fill it in a module-scoped fixture of your own; tests must only read it."""
    eng = db_factory.engine(request.param)
    yield eng
    db_factory.drop(eng)


@pytest.fixture
def sqlite_engine(db_factory):
    eng = db_factory.engine("sqlite")
    yield eng
    db_factory.drop(eng)


# ---------------------------------------------------------------- app databases (AppTest, browser)
APP_TEST_CASES = 400


@pytest.fixture(scope="session")
def demo_db_url(tmp_path_factory):
    """A small demo database (Mali, 400 cases up to today), SQLite, built once per session."""
    from dashboard import bootstrap
    from dashboard.migrate import upgrade as _upgrade

    path = tmp_path_factory.mktemp("app") / "demo.db"
    eng = make_engine(f"sqlite:///{path}")
    _upgrade(eng)
    bootstrap.fill_demo(eng, "mali", APP_TEST_CASES, seed=7)
    eng.dispose()
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def empty_db_url(tmp_path_factory):
    """Reference data (Mali profile) and the demo users, but no cases at all."""
    from dashboard import bootstrap, users
    from dashboard.migrate import upgrade as _upgrade
    from dashboard.profiles import load_profile
    from dashboard.reference import load_reference

    path = tmp_path_factory.mktemp("app") / "empty.db"
    eng = make_engine(f"sqlite:///{path}")
    _upgrade(eng)
    with eng.begin() as conn:
        load_reference(conn, load_profile("mali"))
        bootstrap.set_meta(conn, "demo", "true")
        users.create_demo_users(conn)
    eng.dispose()
    return f"sqlite:///{path}"
