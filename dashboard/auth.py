"""Sign-in with streamlit-authenticator, backed by the users table.

The authenticator checks passwords (bcrypt hashes from ``users.password_hash``) and keeps
the re-login cookie. This module adds what the dashboard needs around it, in the database
so it holds across server processes: a lockout after repeated failures, an audit entry for
every attempt, and a server-side session expiry.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from dashboard import audit, schema
from dashboard.settings import Settings


class LoginLocked(Exception):
    """Too many failed attempts; the account is locked until ``until``."""

    def __init__(self, username: str, until: datetime):
        super().__init__(f"{username} locked until {until:%Y-%m-%d %H:%M} UTC")
        self.username, self.until = username, until


def credentials(conn) -> dict:
    """The authenticator's credentials dict: active users only."""
    rows = conn.execute(
        sa.select(schema.users.c.username, schema.users.c.display_name, schema.users.c.role, schema.users.c.password_hash)
        .where(schema.users.c.active.is_(True))
    ).all()
    return {
        "usernames": {
            r.username: {"name": r.display_name, "password": r.password_hash, "roles": [r.role], "email": None}
            for r in rows
        }
    }


def check_not_locked(conn, username: str, now: datetime | None = None) -> None:
    now = now or audit.now()
    until = conn.execute(sa.select(schema.users.c.locked_until).where(schema.users.c.username == username)).scalar()
    if until is not None and until > now:
        raise LoginLocked(username, until)


def record_attempt(conn, username: str, ok: bool, settings: Settings, now: datetime | None = None) -> None:
    """Count a form sign-in attempt; lock the account after too many failures."""
    now = now or audit.now()
    users = schema.users
    if ok:
        conn.execute(users.update().where(users.c.username == username).values(failed_attempts=0, locked_until=None))
        audit.record(conn, username, "login")
        return
    row = conn.execute(sa.select(users.c.failed_attempts).where(users.c.username == username)).first()
    if row is None:  # unknown user name: audited, nothing to lock
        audit.record(conn, username[:64], "login_failed", detail={"reason": "unknown user"})
        return
    failures = row.failed_attempts + 1
    values = {"failed_attempts": failures}
    if failures >= settings.max_login_attempts:
        values.update(failed_attempts=0, locked_until=now + timedelta(minutes=settings.lockout_minutes))
    conn.execute(users.update().where(users.c.username == username).values(**values))
    audit.record(conn, username, "login_failed", detail={"failures": failures})
    if "locked_until" in values:
        audit.record(conn, username, "login_locked", detail={"until": values["locked_until"].isoformat(timespec="minutes")})


def session_expired(started_at: datetime | None, settings: Settings, now: datetime | None = None) -> bool:
    if started_at is None:
        return False
    return (now or audit.now()) - started_at > timedelta(minutes=settings.session_minutes)


def locked_until(conn, username: str, now: datetime | None = None) -> datetime | None:
    """When the account's lockout ends (None: not locked)."""
    now = now or audit.now()
    until = conn.execute(sa.select(schema.users.c.locked_until).where(schema.users.c.username == username)).scalar()
    return until if until is not None and until > now else None


def record_refused(conn, username: str, until: datetime) -> None:
    """Audit a sign-in attempt refused because the account is locked (the password is not
    even checked, so a brute force learns nothing while the lock lasts)."""
    audit.record(conn, username[:64], "login_failed",
                 detail={"reason": "locked", "until": until.isoformat(timespec="minutes")})


def record_logout(conn, username: str | None, reason: str = "button") -> None:
    """Audit a sign-out: ``reason`` is "button" (Sign out), "expired" (session older than
    settings.session_minutes) or "disabled" (account disabled or removed while signed in)."""
    if username:
        audit.record(conn, username[:64], "logout", detail={"reason": reason})
