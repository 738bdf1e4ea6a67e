"""The audit log search (paged in SQL, newest first), its audited CSV export, the account
rules (no disabling yourself, always one active administrator), and the admin page."""
from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from apptest import app_for, open_page, texts
from dashboard import audit, schema, users
from dashboard.db import make_engine
from dashboard.privacy import AccessDenied, Viewer
from dashboard.queries import audit as q

ADMIN = Viewer("admin", "admin")
PAGE = "app_pages/admin.py"


def _entries(conn):
    """12 entries over three days, by hand: at 1 Dec 09:00 + i hours (i = 0..11)."""
    t0 = datetime(2026, 12, 1, 9, 0)
    rows = []
    for i in range(12):
        user = ["amina", "bakary", "amina"][i % 3]
        action = ["login", "case_open", "export", "login_failed"][i % 4]
        target = {"case_open": f"ML-2026-{i:06d}", "export": "summary"}.get(action)
        rows.append({"at": t0 + timedelta(hours=6 * i), "username": user, "action": action, "target": target,
                     "filters": json.dumps({"period": "last_12_months"}) if action == "export" else None,
                     "detail": None})
    conn.execute(schema.audit_log.insert(), rows)
    return t0


def test_search_pages_newest_first(engine):
    with engine.begin() as c:
        t0 = _entries(c)
        everything = q.AuditSearch()
        assert q.count(c, ADMIN, everything) == 12
        first = q.search(c, ADMIN, everything, page=0, page_size=5)
        second = q.search(c, ADMIN, everything, page=1, page_size=5)
        last = q.search(c, ADMIN, everything, page=2, page_size=5)
    # newest first: i = 11, 10, 9, 8, 7 | 6..2 | 1, 0
    assert list(first["at"]) == [t0 + timedelta(hours=6 * i) for i in (11, 10, 9, 8, 7)]
    assert len(second) == 5 and len(last) == 2 and last["at"].iloc[-1] == t0
    assert set(first["id"]).isdisjoint(second["id"])


def test_search_by_user_action_dates_and_text(engine):
    with engine.begin() as c:
        _entries(c)
        # bakary is i = 1, 4, 7, 10
        assert q.count(c, ADMIN, q.AuditSearch(username="bakary")) == 4
        # case_open is i = 1, 5, 9; export i = 2, 6, 10
        assert q.count(c, ADMIN, q.AuditSearch(actions=("case_open", "export"))) == 6
        # 2 Dec (UTC) holds i with 9 + 6i hours in [24, 48): i = 3, 4, 5, 6
        assert q.count(c, ADMIN, q.AuditSearch(start=date(2026, 12, 2), end=date(2026, 12, 2))) == 4
        # text in the target, any case: "ml-2026-00000" matches codes of i = 1, 5, 9
        assert q.count(c, ADMIN, q.AuditSearch(text="ml-2026-00000")) == 3
        assert q.count(c, ADMIN, q.AuditSearch(text="%")) == 0  # a wildcard is only a character
        assert q.count(c, ADMIN, q.AuditSearch(username="amina", actions=("export",))) == 2  # i = 2, 6
        assert q.usernames(c, ADMIN) == ["amina", "bakary"]


def test_csv_export_is_audited(engine):
    with engine.begin() as c:
        _entries(c)
    data = q.export_csv(engine, ADMIN, q.AuditSearch(actions=("export",)))
    lines = data.decode("utf-8-sig").strip().splitlines()
    assert lines[0] == "at,username,action,target,filters,detail" and len(lines) == 1 + 3
    with engine.connect() as c:
        last = c.execute(sa.select(schema.audit_log).order_by(schema.audit_log.c.id.desc())).mappings().first()
    assert (last["username"], last["action"], last["target"]) == ("admin", "export", "audit_log")
    assert json.loads(last["detail"]) == {"format": "csv", "rows": 3, "search": {"actions": ["export"]}}


def test_the_log_is_for_administrators_only(engine):
    for role in ("committee", "minister", "partner"):
        with pytest.raises(AccessDenied), engine.connect() as c:
            q.search(c, Viewer("x", role), q.AuditSearch())
        with pytest.raises(AccessDenied):
            q.export_csv(engine, Viewer("x", role), q.AuditSearch())


def test_every_action_has_a_label():
    assert set(q.ACTION_LABELS) == set(audit.ACTIONS)
    assert q.describe('{"period": "custom", "regions": ["A", "B"]}') == "period=custom; regions=A,B"
    assert q.describe(None) == q.describe(float("nan")) == q.describe("") == ""


# ---------------------------------------------------------------- account rules
def test_no_disabling_yourself_and_one_admin_remains(engine):
    with engine.begin() as c:
        users.add_user(c, "boss", "Boss", "admin", "a-long-password")
        with pytest.raises(users.UserError, match="your own account"):
            users.update_user(c, "boss", actor="boss", active=False)
        with pytest.raises(users.UserError, match="last active administrator"):
            users.update_user(c, "boss", actor="someone", active=False)
        with pytest.raises(users.UserError, match="last active administrator"):
            users.update_user(c, "boss", actor="boss", role="committee")
        users.add_user(c, "second", "Second", "admin", "a-long-password")
        users.update_user(c, "boss", actor="second", role="committee")  # another admin exists now
        assert users.get_user(c, "boss")["role"] == "committee"
        with pytest.raises(users.UserError, match="last active administrator"):
            users.update_user(c, "second", actor="boss", active=False)


def test_user_errors_translate():
    from dashboard.i18n import translator

    exc = users.UserError("password must have at least {n} characters", n=10)
    assert str(exc) == "password must have at least 10 characters"
    assert exc.text(translator("fr").gettext) == "Le mot de passe doit compter au moins 10 caractères."


# ---------------------------------------------------------------- the page
@pytest.fixture
def own_db(demo_db_url, tmp_path):
    path = tmp_path / "admin.db"
    shutil.copy(demo_db_url.removeprefix("sqlite:///"), path)
    return f"sqlite:///{path}"


@pytest.mark.parametrize("lang, title, tabs", [("en", "Users and audit log", ["Audit log", "Users"]),
                                               ("fr", "Utilisateurs et journal d'audit", ["Journal d'audit",
                                                                                           "Utilisateurs"])])
def test_page_renders_in_both_languages(demo_db_url, empty_db_url, lang, title, tabs):
    for url in (demo_db_url, empty_db_url):
        at = open_page(app_for("admin", lang, url), PAGE)
        assert not at.exception
        assert [t.value for t in at.title] == [title]
        assert [t.label for t in at.tabs] == tabs
        users_table = at.dataframe[-1].value
        assert set(users_table.iloc[:, 0]) >= {"admin", "committee", "minister", "partner", "focal"}


def test_page_only_for_administrators(demo_db_url):
    for role in ("committee", "minister", "partner", "focal"):
        at = app_for(role, "en", demo_db_url)
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(PAGE)


def _form(at, **values):
    for key, value in values.items():
        widget = next(w for w in [*at.text_input, *at.selectbox, *at.multiselect, *at.checkbox] if w.key == key)
        if hasattr(widget, "input"):
            widget.input(value)
        elif hasattr(widget, "select") and not isinstance(value, list):
            widget.select(value)
        elif hasattr(widget, "check"):
            widget.check() if value else widget.uncheck()
        else:
            widget.set_value(value)
    return at


def _submit(at, label):
    next(b for b in at.button if b.label == label).click()
    return at.run()


def test_add_a_user_through_the_form(own_db):
    at = open_page(app_for("admin", "en", own_db), PAGE)
    _form(at, admin_add_username="focal.kayes", admin_add_name="Focal point, Kayes")
    next(w for w in at.selectbox if w.key == "admin_add_role").set_value("committee")
    next(w for w in at.multiselect if w.key == "admin_add_regions").set_value(["ML-1"])
    at = _submit(at, "Add the user")
    assert not at.exception and "Account focal.kayes created." in texts(at)
    password = at.code[0].value  # drawn at random, shown once
    assert len(password) == 16 and not any(w.type == "password" for w in at.text_input)
    eng = make_engine(own_db)
    with eng.connect() as c:
        user = users.get_user(c, "focal.kayes")
        entry = c.execute(sa.select(schema.audit_log).order_by(schema.audit_log.c.id.desc())).mappings().first()
    eng.dispose()
    assert (user["role"], user["regions"], user["active"]) == ("committee", ("ML-1",), True)
    assert users.check_password(password, user["password_hash"])
    assert (entry["username"], entry["action"], entry["target"]) == ("admin", "user_change", "focal.kayes")


def test_validation_messages_are_translated(own_db):
    at = open_page(app_for("admin", "fr", own_db), PAGE)
    _form(at, admin_add_username="Mauvais Nom", admin_add_name="X")
    at = _submit(at, "Ajouter l'utilisateur")
    assert [e.value for e in at.error] == ["Le nom d'utilisateur 'Mauvais Nom' ne doit contenir que des lettres "
                                           "minuscules, des chiffres, « . », « - » ou « _ » (64 au plus)."]
    _form(at, admin_add_username="nouveau", admin_add_name="  ")
    at = _submit(at, "Ajouter l'utilisateur")
    assert [e.value for e in at.error] == ["Un nom affiché est obligatoire."]
    _form(at, admin_add_username="minister", admin_add_name="Encore")
    at = _submit(at, "Ajouter l'utilisateur")
    assert [e.value for e in at.error] == ["L'utilisateur 'minister' existe déjà."]


def test_disabling_yourself_is_refused_on_the_page(own_db):
    at = open_page(app_for("admin", "en", own_db), PAGE)
    next(w for w in at.selectbox if w.key == "admin_edit_user").set_value("admin")
    at = at.run()
    next(w for w in at.checkbox if w.key == "admin_edit_active_admin").uncheck()
    at = _submit(at, "Save the changes")
    assert "You cannot disable your own account." in [e.value for e in at.error]


def test_change_role_and_reset_password(own_db):
    at = open_page(app_for("admin", "en", own_db), PAGE)
    next(w for w in at.selectbox if w.key == "admin_edit_user").set_value("partner")
    at = at.run()
    next(w for w in at.selectbox if w.key == "admin_edit_role_partner").set_value("minister")
    at = _submit(at, "Save the changes")
    assert "Account partner updated." in texts(at)
    at = _submit(at, "Draw a new password")
    assert "New password for partner, shown only now" in texts(at)
    password = at.code[0].value
    eng = make_engine(own_db)
    with eng.connect() as c:
        user = users.get_user(c, "partner")
        changes = [json.loads(d)["change"] for d in c.execute(
            sa.select(schema.audit_log.c.detail).where(schema.audit_log.c.action == "user_change",
                                                       schema.audit_log.c.target == "partner",
                                                       schema.audit_log.c.username == "admin")).scalars()]
    eng.dispose()
    assert user["role"] == "minister" and users.check_password(password, user["password_hash"])
    assert not users.check_password(users.DEMO_PASSWORD, user["password_hash"])
    assert changes == ["update", "password"]


def test_audit_search_on_the_page(own_db):
    eng = make_engine(own_db)
    with eng.begin() as c:
        now = audit.now()
        c.execute(schema.audit_log.insert(), [
            {"at": now - timedelta(minutes=i), "username": "committee", "action": "case_open",
             "target": f"ML-2026-{i:06d}"} for i in range(60)])
    eng.dispose()
    at = open_page(app_for("admin", "en", own_db), PAGE)
    next(w for w in at.selectbox if w.key == "admin_log_user").set_value("committee")
    at = at.run()
    # 60 case openings by committee; 50 a page: page 1 of 2
    assert "60 entries · page 1 of 2" in texts(at)
    log = at.dataframe[0].value
    assert len(log) == 50 and log["Target"].iloc[0] == "ML-2026-000000"  # the newest
    next(w for w in at.number_input if w.key == "admin_log_page").set_value(2)
    at = at.run()
    assert len(at.dataframe[0].value) == 10 and "page 2 of 2" in texts(at)
    next(w for w in at.text_input if w.key == "admin_log_text").input("ml-2026-00005")
    at = at.run()
    # codes 000050..000059
    assert "10 entries · page 1 of 1" in texts(at)
