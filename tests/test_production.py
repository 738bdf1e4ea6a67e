"""Production mode (NRM_MODE=production) refuses to start on each unsafe setting, on a
database with demo data or demo accounts, and says why; with safe settings and a clean
database it shows the sign-in form."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from apptest import APP, TIMEOUT
from dashboard import bootstrap, safety, users
from dashboard.db import make_engine
from dashboard.migrate import upgrade
from dashboard.profiles import load_profile
from dashboard.reference import load_reference
from dashboard.settings import load_settings

REFUSAL = "The dashboard will not start in production mode:"
COOKIE, HASH = "c" * 40, "h" * 40


def _run(monkeypatch, env: dict, lang: str = "en") -> AppTest:
    for var in ("NRM_DATABASE_URL", "NRM_COOKIE_KEY", "NRM_HASH_KEY", "NRM_MODE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NRM_LOGIN_SLEEP", "0")
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
    return at.run()


def _errors(at) -> str:
    return "\n".join(str(e.value) for e in at.error)


@pytest.fixture(scope="module")
def clean_db_url(tmp_path_factory):
    """Reference data and one real administrator: what a production database starts with."""
    path = tmp_path_factory.mktemp("prod") / "clean.db"
    eng = make_engine(f"sqlite:///{path}")
    upgrade(eng)
    with eng.begin() as conn:
        load_reference(conn, load_profile("mali"))
        users.add_user(conn, "chef.admin", "Administrateur national", "admin", "a-real-long-secret", actor="setup")
    eng.dispose()
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def demo_users_db_url(tmp_path_factory):
    """No demo data, but the demo accounts were created."""
    path = tmp_path_factory.mktemp("prod") / "demo-users.db"
    eng = make_engine(f"sqlite:///{path}")
    upgrade(eng)
    with eng.begin() as conn:
        load_reference(conn, load_profile("mali"))
        users.create_demo_users(conn)
    eng.dispose()
    return f"sqlite:///{path}"


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"NRM_DATABASE_URL": None}, "No database is configured"),
        ({"NRM_COOKIE_KEY": None}, "The cookie key is the published demo key"),
        ({"NRM_COOKIE_KEY": "short"}, "The cookie key is shorter than 32 bytes."),
        ({"NRM_HASH_KEY": None}, "The identity hash key is the published demo key"),
        ({"NRM_HASH_KEY": "short-hash-key"}, "The identity hash key is shorter than 32 bytes."),
        ({"NRM_HASH_KEY": COOKIE}, "The cookie key and the identity hash key must be different secrets."),
    ],
    ids=["no-database", "demo-cookie-key", "short-cookie-key", "demo-hash-key", "short-hash-key", "same-keys"],
)
def test_each_unsafe_setting_is_refused(monkeypatch, clean_db_url, change, problem):
    env = {"NRM_MODE": "production", "NRM_DATABASE_URL": clean_db_url, "NRM_COOKIE_KEY": COOKIE, "NRM_HASH_KEY": HASH}
    env.update(change)
    at = _run(monkeypatch, {k: v for k, v in env.items() if v is not None})
    assert not at.exception
    assert REFUSAL in _errors(at) and problem in _errors(at)
    assert not at.text_input and not at.button  # no sign-in form


def test_demo_database_is_refused_with_both_reasons(monkeypatch, demo_db_url):
    at = _run(monkeypatch, {"NRM_MODE": "production", "NRM_DATABASE_URL": demo_db_url,
                            "NRM_COOKIE_KEY": COOKIE, "NRM_HASH_KEY": HASH})
    errors = _errors(at)
    assert REFUSAL in errors
    assert "The database contains demo data" in errors and "Demo user accounts exist" in errors
    assert not at.text_input


def test_demo_accounts_alone_are_refused_in_french(monkeypatch, demo_users_db_url):
    at = _run(monkeypatch, {"NRM_MODE": "production", "NRM_DATABASE_URL": demo_users_db_url,
                            "NRM_COOKIE_KEY": COOKIE, "NRM_HASH_KEY": HASH}, lang="fr")
    errors = _errors(at)
    assert "contains demo data" not in errors and "démonstration" in errors
    assert not at.text_input


def test_demo_mode_on_the_demo_key_is_allowed(monkeypatch, demo_db_url):
    at = _run(monkeypatch, {"NRM_DATABASE_URL": demo_db_url})
    assert not at.error and [w.label for w in at.text_input] == ["User name", "Password"]


def test_safe_production_shows_the_sign_in_form(monkeypatch, clean_db_url):
    at = _run(monkeypatch, {"NRM_MODE": "production", "NRM_DATABASE_URL": clean_db_url,
                            "NRM_COOKIE_KEY": COOKIE, "NRM_HASH_KEY": HASH})
    assert not at.exception and not at.error
    assert [w.label for w in at.text_input] == ["User name", "Password"]
    assert "Demo: sign in as" not in "\n".join(str(e.value) for e in at.info)


def test_database_problems_directly(clean_db_url, demo_db_url, demo_users_db_url):
    prod = load_settings(env={"NRM_MODE": "production", "NRM_DATABASE_URL": "x", "NRM_COOKIE_KEY": COOKIE,
                              "NRM_HASH_KEY": HASH})
    found = {}
    for name, url in (("clean", clean_db_url), ("demo", demo_db_url), ("demo_users", demo_users_db_url)):
        eng = make_engine(url)
        with eng.connect() as conn:
            found[name] = safety.database_problems(prod, conn)
            assert safety.database_problems(prod.with_(mode="demo"), conn) == []  # demo mode checks nothing
            if name == "demo":
                assert bootstrap.is_demo(conn)
        eng.dispose()
    assert found["clean"] == []
    assert len(found["demo"]) == 2 and len(found["demo_users"]) == 1
