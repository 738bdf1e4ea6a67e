"""Production-mode checks: the app refuses to start on unsafe settings and says why."""
from __future__ import annotations

import sqlalchemy as sa

from dashboard import schema
from dashboard.domain import N_
from dashboard.settings import DEMO_COOKIE_KEY, DEMO_HASH_KEY, Settings

MIN_KEY_BYTES = 32


def setting_problems(settings: Settings) -> list[str]:
    """msgids of the problems found in the settings alone (production mode only)."""
    if not settings.production:
        return []
    problems = []
    if settings.database_is_default:
        problems.append(N_("No database is configured: set NRM_DATABASE_URL to the shared database."))
    if settings.cookie_key == DEMO_COOKIE_KEY:
        problems.append(N_("The cookie key is the published demo key: set NRM_COOKIE_KEY to a secret of at least 32 bytes."))
    elif len(settings.cookie_key.encode()) < MIN_KEY_BYTES:
        problems.append(N_("The cookie key is shorter than 32 bytes."))
    if settings.hash_key == DEMO_HASH_KEY:
        problems.append(N_("The identity hash key is the published demo key: set NRM_HASH_KEY to a secret of at least 32 bytes."))
    elif len(settings.hash_key.encode()) < MIN_KEY_BYTES:
        problems.append(N_("The identity hash key is shorter than 32 bytes."))
    if settings.cookie_key == settings.hash_key:
        problems.append(N_("The cookie key and the identity hash key must be different secrets."))
    return problems


def database_problems(settings: Settings, conn) -> list[str]:
    """msgids of the problems found in the database (production mode only)."""
    if not settings.production:
        return []
    problems = []
    demo = conn.execute(sa.select(schema.meta.c.value).where(schema.meta.c.key == "demo")).scalar()
    if demo == "true":
        problems.append(N_("The database contains demo data: production needs a database without it."))
    if conn.execute(sa.select(sa.func.count()).select_from(schema.users).where(schema.users.c.is_demo.is_(True))).scalar():
        problems.append(N_("Demo user accounts exist: remove them (python -m dashboard users disable NAME) before production."))
    return problems
