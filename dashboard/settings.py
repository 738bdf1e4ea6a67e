"""Settings, from the environment or ``.streamlit/secrets.toml`` (environment wins).

| setting | environment | secrets.toml key | default |
|---|---|---|---|
| database URL | NRM_DATABASE_URL | database_url | sqlite file data/nrm.db (demo) |
| country profile | NRM_COUNTRY | country | mali |
| demo cases on first start | NRM_DEMO_CASES | demo_cases | 10000 |
| small-count threshold k | NRM_K | k | 5 |
| cookie key (>= 32 bytes) | NRM_COOKIE_KEY | cookie_key | demo key (refused in production) |
| identity hash key | NRM_HASH_KEY | hash_key | demo key (refused in production) |
| mode | NRM_MODE | mode | demo (or production) |
| failed logins before lockout | NRM_MAX_LOGIN_ATTEMPTS | max_login_attempts | 5 |
| lockout minutes | NRM_LOCKOUT_MINUTES | lockout_minutes | 15 |
| session expiry minutes | NRM_SESSION_MINUTES | session_minutes | 480 |
| cache TTL seconds | NRM_CACHE_TTL | cache_ttl | 300 |
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
DEFAULT_SQLITE_PATH = DATA_DIR / "nrm.db"
SECRETS_PATH = ROOT / ".streamlit" / "secrets.toml"

DEMO_COOKIE_KEY = "demo-cookie-key-change-me-0123456789abcdef"
DEMO_HASH_KEY = "demo-hash-key-change-me-0123456789abcdef"


@dataclass(frozen=True)
class Settings:
    database_url: str
    database_is_default: bool
    country: str = "mali"
    demo_cases: int = 10_000
    k: int = 5
    cookie_key: str = DEMO_COOKIE_KEY
    hash_key: str = DEMO_HASH_KEY
    mode: str = "demo"
    max_login_attempts: int = 5
    lockout_minutes: int = 15
    session_minutes: int = 480
    cache_ttl: int = 300
    sources: dict = field(default_factory=dict, compare=False)

    @property
    def production(self) -> bool:
        return self.mode == "production"

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)


def _read_secrets(path: Path) -> dict:
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


_SPEC = {
    # name: (env var, secrets key, type)
    "country": ("NRM_COUNTRY", "country", str),
    "demo_cases": ("NRM_DEMO_CASES", "demo_cases", int),
    "k": ("NRM_K", "k", int),
    "cookie_key": ("NRM_COOKIE_KEY", "cookie_key", str),
    "hash_key": ("NRM_HASH_KEY", "hash_key", str),
    "mode": ("NRM_MODE", "mode", str),
    "max_login_attempts": ("NRM_MAX_LOGIN_ATTEMPTS", "max_login_attempts", int),
    "lockout_minutes": ("NRM_LOCKOUT_MINUTES", "lockout_minutes", int),
    "session_minutes": ("NRM_SESSION_MINUTES", "session_minutes", int),
    "cache_ttl": ("NRM_CACHE_TTL", "cache_ttl", int),
}


def load_settings(env: dict | None = None, secrets_path: Path | None = None) -> Settings:
    env = os.environ if env is None else env
    secrets = _read_secrets(SECRETS_PATH if secrets_path is None else secrets_path)
    values: dict = {}
    sources: dict = {}
    for name, (var, key, kind) in _SPEC.items():
        if env.get(var):
            raw, sources[name] = env[var], "environment"
        elif key in secrets:
            raw, sources[name] = secrets[key], "secrets"
        else:
            continue
        try:
            values[name] = kind(raw)
        except ValueError as exc:
            raise ValueError(f"Setting {var} must be {kind.__name__}, got {raw!r}") from exc
    url = env.get("NRM_DATABASE_URL") or secrets.get("database_url")
    if url:
        sources["database_url"] = "environment" if env.get("NRM_DATABASE_URL") else "secrets"
    else:
        url = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    if values.get("mode", "demo") not in ("demo", "production"):
        raise ValueError(f"NRM_MODE must be 'demo' or 'production', got {values['mode']!r}")
    if values.get("k", 5) < 2:
        raise ValueError("The small-count threshold NRM_K must be at least 2")
    return Settings(database_url=url, database_is_default=not sources.get("database_url"), sources=sources, **values)
