"""Helpers to drive the real app with Streamlit's AppTest (no browser).

Fixtures ``demo_db_url`` (a small generated demo database) and ``empty_db_url`` (reference
data and users, no cases) are defined in conftest.py; both are SQLite files built once per
test session. Use::

    at = app_for("minister", "fr", demo_db_url)        # signed in, default page rendered
    at = open_page(at, "app_pages/shelters.py")       # then another page
    assert not at.exception
"""
from __future__ import annotations

import os
from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard import audit

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 60


def _env(db_url: str) -> None:
    os.environ["NRM_DATABASE_URL"] = db_url
    os.environ["NRM_LOGIN_SLEEP"] = "0"


def signed_out(db_url: str, lang: str = "en") -> AppTest:
    _env(db_url)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
    return at.run()


def app_for(username: str, lang: str, db_url: str) -> AppTest:
    """An AppTest signed in as ``username`` (the demo users are named after their roles)."""
    _env(db_url)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    at.session_state["name"] = username
    at.session_state["login_at"] = audit.now()
    return at.run()


def open_page(at: AppTest, page_file: str) -> AppTest:
    return at.switch_page(page_file).run()


def texts(at: AppTest) -> str:
    """Everything the page wrote as text (titles, markdown, captions, metrics, alerts)."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        parts.extend(str(e.value) for e in getattr(at, kind))
    parts.extend(f"{m.label} {m.value}" for m in at.metric)
    return "\n".join(parts)
