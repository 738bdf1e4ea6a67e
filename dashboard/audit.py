"""The audit log: logins, case-level views, exports, imports, updates, user changes."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import sqlalchemy as sa

from dashboard import schema

ACTIONS = (
    "login",
    "login_failed",
    "login_locked",
    "logout",
    "case_level_view",
    "case_open",
    "export",
    "import",
    "update",
    "user_change",
)


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def record(conn, username: str | None, action: str, target: str | None = None, filters=None, detail: dict | None = None) -> None:
    """Write one entry inside the caller's transaction (``conn`` from ``engine.begin()``)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    conn.execute(
        schema.audit_log.insert().values(
            at=now(),
            username=username,
            action=action,
            target=target,
            filters=json.dumps(filters.to_params(), sort_keys=True) if hasattr(filters, "to_params") else filters,
            detail=json.dumps(detail, sort_keys=True, default=str) if detail else None,
        )
    )


def record_now(engine, *args, **kwargs) -> None:
    with engine.begin() as conn:
        record(conn, *args, **kwargs)
