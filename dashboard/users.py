"""Users of the dashboard (never the people assisted): accounts, roles, region scope."""
from __future__ import annotations

from datetime import datetime

import bcrypt
import sqlalchemy as sa

from dashboard import audit, schema
from dashboard.domain import N_, ROLES
from dashboard.privacy import Viewer

MIN_PASSWORD_LENGTH = 10

# Demo accounts, created only with demo data (production mode refuses them).
DEMO_PASSWORD = "demo-nrm-2026"
DEMO_USERS = (
    {"username": "admin", "display_name": "Demo administrator", "role": "admin", "can_import": True},
    {"username": "committee", "display_name": "Demo committee member", "role": "committee", "can_import": True},
    {"username": "minister", "display_name": "Demo minister", "role": "minister"},
    {"username": "partner", "display_name": "Demo partner (IOM)", "role": "partner"},
    {"username": "focal", "display_name": "Demo regional focal point", "role": "committee", "regions": "first"},
)


class UserError(ValueError):
    """A refused account change. ``message`` is an English msgid with {placeholders} and
    ``params`` their values, so a page can show it translated: ``exc.text(t.gettext)``."""

    def __init__(self, message: str, **params):
        super().__init__(message.format(**params))
        self.message, self.params = message, params

    def text(self, gettext) -> str:
        return gettext(self.message).format(**self.params)


def new_password(length: int = 16) -> str:
    """A random password for a new account or a reset (letters and digits, no look-alikes),
    handed over by the administrator; the dashboard keeps only its hash."""
    import secrets

    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()


def check_password(password: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), hashed.encode())
    except ValueError:
        return False


def _validate(username: str, role: str, password: str | None) -> None:
    if (not username or len(username) > 64 or not username.isascii()
            or not username.replace("_", "").replace(".", "").replace("-", "").isalnum() or username != username.lower()):
        raise UserError(N_("username {name} must be lower-case letters, digits, '.', '-' or '_' (at most 64)"),
                        name=repr(username))
    if role not in ROLES:
        raise UserError(N_("unknown role {role} (expected one of {roles})"), role=repr(role), roles=", ".join(ROLES))
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(N_("password must have at least {n} characters"), n=MIN_PASSWORD_LENGTH)


def _region_ids(conn, codes) -> list[int]:
    if not codes:
        return []
    rows = conn.execute(sa.select(schema.regions.c.code, schema.regions.c.id).where(schema.regions.c.code.in_(codes))).all()
    found = dict(rows)
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise UserError(N_("unknown region code(s): {codes}"), codes=", ".join(unknown))
    return [found[c] for c in codes]


def add_user(conn, username: str, display_name: str, role: str, password: str, regions=(), can_import: bool = False,
             is_demo: bool = False, actor: str | None = None) -> int:
    _validate(username, role, password if not is_demo else None)
    if not (display_name or "").strip():
        raise UserError(N_("A display name is required."))
    if conn.execute(sa.select(schema.users.c.id).where(schema.users.c.username == username)).first():
        raise UserError(N_("user {name} already exists"), name=repr(username))
    region_ids = _region_ids(conn, list(regions))
    uid = conn.execute(
        schema.users.insert().values(
            username=username, display_name=display_name, role=role, password_hash=hash_password(password),
            active=True, can_import=can_import, is_demo=is_demo, failed_attempts=0, created_at=audit.now(),
        )
    ).inserted_primary_key[0]
    if region_ids:
        conn.execute(schema.user_regions.insert(), [{"user_id": uid, "region_id": r} for r in region_ids])
    audit.record(conn, actor, "user_change", target=username, detail={"change": "add", "role": role, "regions": list(regions)})
    return uid


def update_user(conn, username: str, actor: str | None = None, *, role: str | None = None, regions=None,
                active: bool | None = None, can_import: bool | None = None, display_name: str | None = None) -> None:
    user = get_user(conn, username)
    if user is None:
        raise UserError(N_("no user {name}"), name=repr(username))
    if active is False and actor == username:
        raise UserError(N_("You cannot disable your own account."))
    if user["role"] == "admin" and user["active"] and (active is False or (role is not None and role != "admin")):
        others = conn.execute(sa.select(sa.func.count()).select_from(schema.users).where(
            schema.users.c.role == "admin", schema.users.c.active.is_(True),
            schema.users.c.username != username)).scalar()
        if not others:
            raise UserError(N_("{name} is the last active administrator: make another one first."), name=username)
    values = {}
    if role is not None:
        _validate(username, role, None)
        values["role"] = role
    if active is not None:
        values["active"] = active
        if active:
            values.update(failed_attempts=0, locked_until=None)
    if can_import is not None:
        values["can_import"] = can_import
    if display_name is not None:
        values["display_name"] = display_name
    if values:
        conn.execute(schema.users.update().where(schema.users.c.username == username).values(**values))
    if regions is not None:
        ids = _region_ids(conn, list(regions))
        conn.execute(schema.user_regions.delete().where(schema.user_regions.c.user_id == user["id"]))
        if ids:
            conn.execute(schema.user_regions.insert(), [{"user_id": user["id"], "region_id": r} for r in ids])
    detail = {k: v for k, v in {"role": role, "regions": list(regions) if regions is not None else None,
                                 "active": active, "can_import": can_import, "display_name": display_name}.items() if v is not None}
    audit.record(conn, actor, "user_change", target=username, detail={"change": "update", **detail})


def set_password(conn, username: str, password: str, actor: str | None = None) -> None:
    if get_user(conn, username) is None:
        raise UserError(N_("no user {name}"), name=repr(username))
    _validate(username, "admin", password)
    conn.execute(schema.users.update().where(schema.users.c.username == username).values(
        password_hash=hash_password(password), failed_attempts=0, locked_until=None))
    audit.record(conn, actor, "user_change", target=username, detail={"change": "password"})


def get_user(conn, username: str) -> dict | None:
    row = conn.execute(sa.select(schema.users).where(schema.users.c.username == username)).mappings().first()
    if row is None:
        return None
    user = dict(row)
    codes = conn.execute(
        sa.select(schema.regions.c.code)
        .join(schema.user_regions, schema.user_regions.c.region_id == schema.regions.c.id)
        .where(schema.user_regions.c.user_id == user["id"])
        .order_by(schema.regions.c.code)
    ).scalars().all()
    user["regions"] = tuple(codes) or None
    return user


def list_users(conn) -> list[dict]:
    names = conn.execute(sa.select(schema.users.c.username).order_by(schema.users.c.username)).scalars().all()
    return [get_user(conn, n) for n in names]


def viewer_for(conn, username: str) -> Viewer | None:
    user = get_user(conn, username)
    if user is None or not user["active"]:
        return None
    return Viewer(username=user["username"], role=user["role"], regions=user["regions"],
                  display_name=user["display_name"], can_import=bool(user["can_import"]) or user["role"] == "admin")


def create_demo_users(conn) -> None:
    first_region = conn.execute(sa.select(schema.regions.c.code).order_by(schema.regions.c.id)).scalars().first()
    for spec in DEMO_USERS:
        if get_user(conn, spec["username"]) is not None:
            continue
        regions = (first_region,) if spec.get("regions") == "first" and first_region else ()
        add_user(conn, spec["username"], spec["display_name"], spec["role"], DEMO_PASSWORD, regions=regions,
                 can_import=spec.get("can_import", False), is_demo=True, actor="demo")
