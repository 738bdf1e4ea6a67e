"""Accounts: validation, region scope, disabling, passwords, and the audit of each change."""
import pytest
import sqlalchemy as sa

from dashboard import auth, schema, users
from dashboard.settings import load_settings


def _regions(conn):
    conn.execute(schema.regions.insert(), [{"code": "R1", "name": "One"}, {"code": "R2", "name": "Two"}])


def test_add_and_view_scoped_user(engine):
    with engine.begin() as c:
        _regions(c)
        users.add_user(c, "focal.r1", "Focal point", "committee", "a-long-password", regions=["R1"], actor="admin")
        v = users.viewer_for(c, "focal.r1")
        actions = c.execute(sa.select(schema.audit_log.c.action, schema.audit_log.c.target)).all()
    assert (v.role, v.regions, v.case_level, v.can_import) == ("committee", ("R1",), True, False)
    assert actions == [("user_change", "focal.r1")]


@pytest.mark.parametrize(
    "args, message",
    [
        (("Bad Name", "x", "admin", "a-long-password"), "must be lower-case"),
        (("ok", "x", "king", "a-long-password"), "unknown role 'king'"),
        (("ok", "x", "admin", "short"), "at least 10 characters"),
    ],
)
def test_add_user_refuses_bad_input(engine, args, message):
    with engine.begin() as c:
        with pytest.raises(users.UserError, match=message):
            users.add_user(c, *args)


def test_unknown_region_and_duplicate(engine):
    with engine.begin() as c:
        _regions(c)
        with pytest.raises(users.UserError, match="unknown region code"):
            users.add_user(c, "x1", "x", "committee", "a-long-password", regions=["NOPE"])
        users.add_user(c, "x2", "x", "committee", "a-long-password")
        with pytest.raises(users.UserError, match="already exists"):
            users.add_user(c, "x2", "x", "committee", "a-long-password")


def test_disabled_user_has_no_viewer_and_no_credentials(engine):
    with engine.begin() as c:
        users.add_user(c, "gone", "Gone", "minister", "a-long-password")
        users.update_user(c, "gone", actor="admin", active=False)
        assert users.viewer_for(c, "gone") is None
        assert "gone" not in auth.credentials(c)["usernames"]


def test_password_change(engine):
    with engine.begin() as c:
        users.add_user(c, "p", "P", "partner", "first-password")
        users.set_password(c, "p", "second-password")
        hashed = c.execute(sa.select(schema.users.c.password_hash)).scalar()
    assert users.check_password("second-password", hashed) and not users.check_password("first-password", hashed)


def test_lockout_after_repeated_failures(engine):
    from datetime import datetime, timedelta

    settings = load_settings(env={"NRM_MAX_LOGIN_ATTEMPTS": "3", "NRM_LOCKOUT_MINUTES": "10"})
    t0 = datetime(2026, 12, 1, 9, 0)
    with engine.begin() as c:
        users.add_user(c, "m", "M", "minister", "a-long-password")
        for _ in range(3):
            auth.check_not_locked(c, "m", now=t0)
            auth.record_attempt(c, "m", False, settings, now=t0)
        with pytest.raises(auth.LoginLocked):
            auth.check_not_locked(c, "m", now=t0 + timedelta(minutes=9))
        auth.check_not_locked(c, "m", now=t0 + timedelta(minutes=11))  # lock over
        actions = c.execute(sa.select(schema.audit_log.c.action).order_by(schema.audit_log.c.id)).scalars().all()
    assert actions == ["user_change", "login_failed", "login_failed", "login_failed", "login_locked"]
