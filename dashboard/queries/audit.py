"""The audit log for administrators: search (paged in SQL, newest first) and CSV export.

Every function here refuses anyone but an administrator (``@privacy.admin_only``) before
reading: the log names users, the filters they used and the cases they opened. The CSV
export writes its own audit entry, like every export.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pandas as pd
import sqlalchemy as sa

from dashboard import audit, privacy, schema
from dashboard.db import frame
from dashboard.domain import N_

log = schema.audit_log
PAGE_SIZE = 50
EXPORT_LIMIT = 100_000  # rows in one CSV export (newest first); the page says when it is cut
COLUMNS = ("at", "username", "action", "target", "filters", "detail")
ACTION_LABELS = {
    "login": N_("Sign-in"),
    "login_failed": N_("Sign-in refused"),
    "login_locked": N_("Account locked"),
    "logout": N_("Sign-out"),
    "case_level_view": N_("Case-level page viewed"),
    "case_open": N_("Case opened"),
    "export": N_("Export"),
    "import": N_("Import"),
    "update": N_("Update"),
    "user_change": N_("User change"),
}  # tests/test_admin_page.py checks every audit.ACTIONS has one


@dataclass(frozen=True)
class AuditSearch:
    """What the administrator asked for; empty fields do not filter."""

    username: str | None = None  # exact user name
    actions: tuple[str, ...] = ()
    start: date | None = None  # first day, inclusive (UTC)
    end: date | None = None  # last day, inclusive (UTC)
    text: str | None = None  # free text found in the target (case-insensitive)

    def to_params(self) -> dict:
        """For the audit entry of an export: what was searched."""
        out = {"username": self.username, "actions": list(self.actions) or None,
               "from": self.start.isoformat() if self.start else None,
               "to": self.end.isoformat() if self.end else None, "text": self.text or None}
        return {k: v for k, v in out.items() if v}


def _where(q: AuditSearch) -> list:
    clauses = []
    if q.username:
        clauses.append(log.c.username == q.username)
    if q.actions:
        clauses.append(log.c.action.in_(list(q.actions)))
    if q.start:
        clauses.append(log.c.at >= datetime.combine(q.start, time.min))
    if q.end:
        clauses.append(log.c.at < datetime.combine(q.end + timedelta(days=1), time.min))
    text = (q.text or "").strip().lower()
    if text:
        clauses.append(sa.func.lower(log.c.target).contains(text, autoescape=True))
    return clauses


def _select(q: AuditSearch):
    return (sa.select(log.c.id, *(log.c[c] for c in COLUMNS)).where(*_where(q))
            .order_by(log.c.at.desc(), log.c.id.desc()))


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    if not df.empty:
        df["at"] = pd.to_datetime(df["at"])
    return df


@privacy.admin_only
def count(conn, viewer: privacy.Viewer, q: AuditSearch) -> int:
    """Entries matching ``q``."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(log).where(*_where(q))).scalar())


@privacy.admin_only
def search(conn, viewer: privacy.Viewer, q: AuditSearch, page: int = 0, page_size: int = PAGE_SIZE) -> pd.DataFrame:
    """One page (0 = newest) of entries matching ``q``: id, at, username, action, target,
    filters, detail (JSON text), newest first."""
    return _typed(frame(conn, _select(q).limit(page_size).offset(max(page, 0) * page_size)))


@privacy.admin_only
def usernames(conn, viewer: privacy.Viewer) -> list[str]:
    """User names that appear in the log (accounts removed since included), sorted."""
    stmt = sa.select(log.c.username).where(log.c.username.is_not(None)).distinct().order_by(log.c.username)
    return list(conn.execute(stmt).scalars())


def describe(value: str | None) -> str:
    """A JSON filters/detail field as short readable text: ``key=value; ...``."""
    if not isinstance(value, str) or not value:  # NULL comes back as None or NaN
        return ""
    try:
        data = json.loads(value)
    except ValueError:
        return value
    if not isinstance(data, dict):
        return str(data)
    return "; ".join(f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}" for k, v in data.items())


@privacy.admin_only
def export_csv(engine, viewer: privacy.Viewer, q: AuditSearch, limit: int = EXPORT_LIMIT) -> bytes:
    """The entries matching ``q`` (newest first, at most ``limit``) as UTF-8 CSV; the export
    itself is written to the log (action ``export``, target ``audit_log``)."""
    with engine.begin() as conn:
        df = _typed(frame(conn, _select(q).limit(limit)))
        audit.record(conn, viewer.username, "export", target="audit_log",
                     detail={"format": "csv", "rows": len(df), "search": q.to_params()})
    buf = io.StringIO()
    out = df.drop(columns=["id"])
    if not out.empty:
        out["at"] = out["at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    out.to_csv(buf, index=False)
    return buf.getvalue().encode("utf-8-sig")
