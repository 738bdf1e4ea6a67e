"""Login hardening: lockout after repeated failures (a fake clock, then the real sign-in
form), every attempt audited, sessions that expire, sign-out audited."""
from __future__ import annotations

import shutil
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from apptest import app_for, signed_out, texts
from dashboard import auth, schema, users
from dashboard.db import make_engine
from dashboard.settings import load_settings

SETTINGS = load_settings(env={})  # defaults: 5 failures, 15 minutes lockout, 480 minutes session
T0 = datetime(2026, 12, 1, 9, 0)


def _actions(conn, username=None):
    stmt = sa.select(schema.audit_log.c.action, schema.audit_log.c.detail).order_by(schema.audit_log.c.id)
    if username:
        stmt = stmt.where(schema.audit_log.c.username == username)
    return conn.execute(stmt).all()


# ---------------------------------------------------------------- the lockout, with a fake clock
def test_five_failures_lock_until_the_lockout_ends(engine):
    assert (SETTINGS.max_login_attempts, SETTINGS.lockout_minutes) == (5, 15)
    with engine.begin() as c:
        users.add_user(c, "m", "M", "minister", "a-long-password")
        for minute in range(4):
            assert auth.locked_until(c, "m", now=T0 + timedelta(minutes=minute)) is None
            auth.record_attempt(c, "m", False, SETTINGS, now=T0 + timedelta(minutes=minute))
        assert auth.locked_until(c, "m", now=T0 + timedelta(minutes=4)) is None  # four failures: not yet
        auth.record_attempt(c, "m", False, SETTINGS, now=T0 + timedelta(minutes=4))  # the fifth locks
        until = T0 + timedelta(minutes=4 + 15)
        assert auth.locked_until(c, "m", now=T0 + timedelta(minutes=5)) == until
        with pytest.raises(auth.LoginLocked) as exc:
            auth.check_not_locked(c, "m", now=until - timedelta(seconds=1))
        assert exc.value.until == until
        assert auth.locked_until(c, "m", now=until) is None  # over at 09:19
        auth.check_not_locked(c, "m", now=until + timedelta(seconds=1))
        actions = [a for a, _ in _actions(c, "m")]
    assert actions == ["login_failed"] * 5 + ["login_locked"]


def test_success_resets_the_count(engine):
    with engine.begin() as c:
        users.add_user(c, "p", "P", "partner", "a-long-password")
        for _ in range(4):
            auth.record_attempt(c, "p", False, SETTINGS, now=T0)
        auth.record_attempt(c, "p", True, SETTINGS, now=T0)
        for _ in range(4):  # four more failures after a success: still not locked
            auth.record_attempt(c, "p", False, SETTINGS, now=T0)
        assert auth.locked_until(c, "p", now=T0) is None
        assert c.execute(sa.select(schema.users.c.failed_attempts).where(schema.users.c.username == "p")).scalar() == 4


def test_unknown_user_is_audited_and_nothing_is_locked(engine):
    with engine.begin() as c:
        for _ in range(7):
            auth.record_attempt(c, "nobody", False, SETTINGS, now=T0)
        assert auth.locked_until(c, "nobody", now=T0) is None
        entries = _actions(c, "nobody")
    assert [a for a, _ in entries] == ["login_failed"] * 7 and '"unknown user"' in entries[0][1]


def test_refused_attempts_and_logouts_are_audited(engine):
    with engine.begin() as c:
        auth.record_refused(c, "m", T0)
        auth.record_logout(c, "m", "expired")
        auth.record_logout(c, None, "button")  # nobody signed in: nothing to write
        entries = _actions(c)
    assert [a for a, _ in entries] == ["login_failed", "logout"]
    assert '"locked"' in entries[0][1] and '"expired"' in entries[1][1]


def test_session_expiry():
    assert not auth.session_expired(None, SETTINGS)
    assert not auth.session_expired(T0, SETTINGS, now=T0 + timedelta(minutes=480))
    assert auth.session_expired(T0, SETTINGS, now=T0 + timedelta(minutes=481))


# ---------------------------------------------------------------- through the real sign-in form
@pytest.fixture
def own_db(empty_db_url, tmp_path):
    """A copy of the empty database with the demo users (lockouts must not leak to other tests)."""
    path = tmp_path / "auth.db"
    shutil.copy(empty_db_url.removeprefix("sqlite:///"), path)
    return f"sqlite:///{path}"


def _sign_in(at, username, password):
    # the form: text_input[0] user name, text_input[1] password, button[0] "Sign in"
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click()
    return at.run()


def _signed_in(at) -> bool:
    return any(b.key == "Logout" for b in at.button)


def test_brute_force_through_the_form_is_locked_out(own_db):
    at = signed_out(own_db, "en")
    assert [w.label for w in at.text_input] == ["User name", "Password"] and at.button[0].label == "Sign in"
    for attempt in range(5):
        at = _sign_in(at, "minister", f"wrong-password-{attempt}")
        assert not at.exception and not _signed_in(at)
        assert "User name or password is incorrect." in texts(at)
    # the sixth attempt has the right password: refused all the same, and the page says why
    at = _sign_in(at, "minister", users.DEMO_PASSWORD)
    assert not _signed_in(at)
    assert "Too many failed attempts: this account is locked until" in texts(at)
    eng = make_engine(own_db)
    with eng.begin() as c:
        actions = [a for a, _ in _actions(c, "minister") if a != "user_change"]
        assert actions == ["login_failed"] * 5 + ["login_locked", "login_failed"]
        # the lockout ends: the right password works again
        c.execute(schema.users.update().where(schema.users.c.username == "minister")
                  .values(locked_until=datetime(2000, 1, 1)))
    eng.dispose()
    at = _sign_in(signed_out(own_db, "en"), "minister", users.DEMO_PASSWORD)
    assert _signed_in(at) and not at.exception


def test_other_accounts_are_not_locked_by_a_brute_force(own_db):
    at = signed_out(own_db, "fr")
    for attempt in range(5):
        at = _sign_in(at, "partner", f"mauvais-{attempt}-mot")
    at = _sign_in(signed_out(own_db, "fr"), "committee", users.DEMO_PASSWORD)
    assert _signed_in(at)


def test_expired_session_goes_back_to_sign_in(own_db):
    at = app_for("committee", "en", own_db)
    assert _signed_in(at)
    at.session_state["login_at"] = datetime.now() - timedelta(minutes=SETTINGS.session_minutes + 5)
    at = at.run()
    assert not _signed_in(at) and [w.label for w in at.text_input] == ["User name", "Password"]
    assert "Your session has expired: please sign in again." in texts(at)
    eng = make_engine(own_db)
    with eng.connect() as c:
        assert [a for a, _ in _actions(c, "committee")][-1] == "logout"
        assert '"expired"' in _actions(c, "committee")[-1][1]
    eng.dispose()


def test_sign_out_is_audited(own_db):
    at = app_for("partner", "fr", own_db)
    next(b for b in at.button if b.key == "Logout").click()
    at = at.run()
    assert "Vous êtes déconnecté." in texts(at) and not at.title  # the page is gone at once
    at = at.run()
    assert not _signed_in(at) and len(at.text_input) == 2  # then the sign-in form
    eng = make_engine(own_db)
    with eng.connect() as c:
        action, detail = _actions(c, "partner")[-1]
    eng.dispose()
    assert action == "logout" and '"button"' in detail


def test_disabled_while_signed_in_is_signed_out(own_db):
    at = app_for("partner", "en", own_db)
    assert _signed_in(at)
    eng = make_engine(own_db)
    with eng.begin() as c:
        users.update_user(c, "partner", actor="admin", active=False)
    at = at.run()
    assert not _signed_in(at)
    with eng.connect() as c:
        assert '"disabled"' in _actions(c, "partner")[-1][1]
    eng.dispose()
