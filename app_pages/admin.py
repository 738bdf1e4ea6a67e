"""Administration: search the audit log, and manage user accounts (administrators only).

Reads go straight to the database (no cache: the log must be current); every account
change goes through dashboard.users, which validates it and writes it to the audit log.
"""
import math
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from dashboard import audit, ui, users
from dashboard.domain import ROLE_LABELS, ROLES
from dashboard.queries import audit as q

ctx = ui.context()
_ = ctx._
t = ctx.t
viewer = ctx.viewer
engine = ui.engine()

st.title(_("Users and audit log"))
if viewer.role != "admin":  # navigation already hides the page; this guards a direct call
    st.error(_("Only administrators may open this page."))
    st.stop()

regions = ui.reference_data(ctx.settings.database_url)["regions"]
ACTION_LABELS = {code: _(label) for code, label in q.ACTION_LABELS.items()}


def _when(value) -> str:
    return f"{t.date(value.date())} {value:%H:%M}"


def _user_error(exc: users.UserError) -> str:
    text = exc.text(_)
    return text[:1].upper() + text[1:]


tab_log, tab_users = st.tabs([_("Audit log"), _("Users")])

# ---------------------------------------------------------------- audit log
with tab_log:
    st.caption(_("Every sign-in, sign-out, case-level page view, case opened, export, import, update and user "
                 "change, with who, when (UTC) and the filters used. Newest first."))
    with engine.connect() as conn:
        known_users = q.usernames(conn, viewer)
    today = date.today()
    c1, c2, c3, c4 = st.columns([1, 1.4, 1.2, 1.2])
    who = c1.selectbox(_("User"), ["", *known_users], key="admin_log_user",
                       format_func=lambda u: u or _("All users"))
    actions = c2.multiselect(_("Actions"), list(ACTION_LABELS), key="admin_log_actions",
                             format_func=ACTION_LABELS.get, placeholder=_("All actions"))
    picked = c3.date_input(_("From – to (UTC)"), value=(today - timedelta(days=30), today), max_value=today,
                           key="admin_log_dates", format="DD/MM/YYYY")
    text = c4.text_input(_("Target contains"), key="admin_log_text", max_chars=100,
                         help=_("Part of a case code, a user name, a file or a page, as written in the Target column."))
    if isinstance(picked, (list, tuple)) and len(picked) == 2:
        start, end = picked
    else:
        start = end = picked[0] if isinstance(picked, (list, tuple)) and picked else today
    search = q.AuditSearch(username=who or None, actions=tuple(actions), start=start, end=end, text=text or None)

    with engine.connect() as conn:
        total = q.count(conn, viewer, search)
    pages = max(1, math.ceil(total / q.PAGE_SIZE))
    if st.session_state.get("admin_log_search") != search:  # a new search starts on its first page
        st.session_state["admin_log_search"] = search
        st.session_state["admin_log_page"] = 1
    st.session_state["admin_log_page"] = min(max(1, st.session_state.get("admin_log_page", 1)), pages)

    if total == 0:
        ui.empty_notice(t, _("No audit entry matches this search."))
    else:
        p1, p2, p3 = st.columns([1, 2, 2], vertical_alignment="bottom")
        page = p1.number_input(_("Page"), min_value=1, max_value=pages, step=1, key="admin_log_page")
        p2.caption(_("{n} entries · page {page} of {pages}").format(n=t.number(total), page=t.number(page),
                                                                    pages=t.number(pages)))
        with engine.connect() as conn:
            rows = q.search(conn, viewer, search, page=page - 1)
        shown = rows.assign(
            at=[_when(v) for v in rows["at"]],
            action=[ACTION_LABELS.get(a, a) for a in rows["action"]],
            username=[u if isinstance(u, str) else "" for u in rows["username"]],
            target=[v if isinstance(v, str) else "" for v in rows["target"]],
            filters=[q.describe(v) for v in rows["filters"]],
            detail=[q.describe(v) for v in rows["detail"]],
        ).drop(columns=["id"])
        ui.show_dataframe(shown, columns={"at": _("When (UTC)"), "username": _("User"), "action": _("Action"),
                                          "target": _("Target"), "filters": _("Filters"), "detail": _("Detail")})

        def _csv() -> bytes:
            return q.export_csv(engine, viewer, search)

        cut = total > q.EXPORT_LIMIT
        p3.download_button(_("Download these entries (CSV)"), _csv, file_name=f"audit-log-{today.isoformat()}.csv",
                           mime="text/csv", icon=":material/download:", key="admin_log_csv", on_click="ignore",
                           help=(_("The {limit} newest entries of the search; the download is written to the "
                                   "audit log.") if cut else _("Every entry of the search; the download is written "
                                                               "to the audit log.")).format(
                               limit=t.number(q.EXPORT_LIMIT)))

# ---------------------------------------------------------------- users
ROLE_NAMES = {r: _(ROLE_LABELS[r]) for r in ROLES}


def _flash(kind: str, message: str, password: str | None = None) -> None:
    st.session_state["admin_flash"] = (kind, message, password)


def _add() -> None:
    s = st.session_state
    password = users.new_password()
    try:
        with engine.begin() as conn:
            users.add_user(conn, s["admin_add_username"].strip(), s["admin_add_name"].strip(), s["admin_add_role"],
                           password, regions=s["admin_add_regions"], can_import=s["admin_add_import"],
                           actor=viewer.username)
    except users.UserError as exc:
        _flash("error", _user_error(exc))
        return
    _flash("success", _("Account {name} created. Its password, shown only now, is below: hand it over in "
                        "person or by telephone, never by e-mail.").format(name=s["admin_add_username"].strip()),
           password)
    for key in ("admin_add_username", "admin_add_name"):
        s[key] = ""
    s["admin_add_regions"] = []
    s["admin_add_import"] = False


def _update(name: str, current: dict) -> None:
    s = st.session_state
    role, regions_now = s[f"admin_edit_role_{name}"], tuple(sorted(s[f"admin_edit_regions_{name}"]))
    changes = {
        "role": role if role != current["role"] else None,
        "regions": regions_now if regions_now != tuple(current["regions"] or ()) else None,
        "active": s[f"admin_edit_active_{name}"] if s[f"admin_edit_active_{name}"] != bool(current["active"]) else None,
        "can_import": (s[f"admin_edit_import_{name}"]
                       if s[f"admin_edit_import_{name}"] != bool(current["can_import"]) else None),
        "display_name": (s[f"admin_edit_name_{name}"].strip()
                         if s[f"admin_edit_name_{name}"].strip() != current["display_name"] else None),
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        _flash("info", _("Nothing to change."))
        return
    if changes.get("display_name") == "":
        _flash("error", _("A display name is required."))
        return
    try:
        with engine.begin() as conn:
            users.update_user(conn, name, viewer.username, **changes)
    except users.UserError as exc:
        _flash("error", _user_error(exc))
        return
    _flash("success", _("Account {name} updated.").format(name=name))


def _password(name: str) -> None:
    password = users.new_password()
    try:
        with engine.begin() as conn:
            users.set_password(conn, name, password, actor=viewer.username)
    except users.UserError as exc:
        _flash("error", _user_error(exc))
        return
    _flash("success", _("New password for {name}, shown only now (the old one no longer works and the account is "
                        "unlocked): hand it over in person or by telephone, never by e-mail.").format(name=name),
           password)


with tab_users:
    flash = st.session_state.pop("admin_flash", None)
    if flash:
        getattr(st, flash[0])(flash[1])
        if flash[2]:
            st.code(flash[2], language=None)
    with engine.connect() as conn:
        accounts = users.list_users(conn)
    now = audit.now()
    table = [{
        "username": u["username"], "display_name": u["display_name"], "role": ROLE_NAMES.get(u["role"], u["role"]),
        "regions": ", ".join(regions.get(c, c) for c in u["regions"]) if u["regions"] else _("National"),
        "active": bool(u["active"]), "can_import": bool(u["can_import"]) or u["role"] == "admin",
        "locked": _when(u["locked_until"]) if u["locked_until"] and u["locked_until"] > now else "",
        "demo": bool(u["is_demo"]),
    } for u in accounts]
    ui.show_dataframe(pd.DataFrame(table), columns={
        "username": _("User name"), "display_name": _("Name shown"), "role": _("Role"), "regions": _("Regions"),
        "active": _("Active"), "can_import": _("May import"), "locked": _("Locked until (UTC)"), "demo": _("Demo"),
    })
    st.caption(_("Region scope: the account sees only these regions on every page and export. Committee members "
                 "and administrators see case-level pages; ministers and partner staff only aggregates, small "
                 "counts hidden."))

    left, right = st.columns(2, gap="large")
    with left:
        st.subheader(_("Add a user"))
        with st.form("admin_add_form", border=True):
            st.text_input(_("User name"), key="admin_add_username", max_chars=64,
                          help=_("Lower-case letters, digits, '.', '-' or '_'; used to sign in."))
            st.text_input(_("Name shown"), key="admin_add_name", max_chars=200,
                          help=_("A role or post is enough (e.g. “Focal point, Kayes”)."))
            st.selectbox(_("Role"), ROLES, key="admin_add_role", format_func=ROLE_NAMES.get, index=1)
            st.multiselect(_("Regions"), list(regions), key="admin_add_regions", format_func=regions.get,
                           placeholder=_("National (every region)"))
            st.checkbox(_("May import data"), key="admin_add_import")
            st.caption(_("A password is drawn at random and shown once, after the account is created."))
            st.form_submit_button(_("Add the user"), on_click=_add, type="primary")

    with right:
        st.subheader(_("Change a user"))
        names = [u["username"] for u in accounts]
        if not names:
            ui.empty_notice(t, _("No account yet."))
        else:
            name = st.selectbox(_("Account"), names, key="admin_edit_user")
            current = next(u for u in accounts if u["username"] == name)
            with st.form(f"admin_edit_form_{name}", border=True):
                st.text_input(_("Name shown"), value=current["display_name"], key=f"admin_edit_name_{name}",
                              max_chars=200)
                st.selectbox(_("Role"), ROLES, index=ROLES.index(current["role"]), key=f"admin_edit_role_{name}",
                             format_func=ROLE_NAMES.get)
                st.multiselect(_("Regions"), list(regions), default=[c for c in (current["regions"] or ()) if c in regions],
                               key=f"admin_edit_regions_{name}", format_func=regions.get,
                               placeholder=_("National (every region)"))
                st.checkbox(_("May import data"), value=bool(current["can_import"]), key=f"admin_edit_import_{name}")
                st.checkbox(_("Active (may sign in)"), value=bool(current["active"]), key=f"admin_edit_active_{name}",
                            help=_("A disabled account cannot sign in; its history stays in the audit log."))
                st.form_submit_button(_("Save the changes"), on_click=_update, args=(name, current), type="primary")
            with st.form(f"admin_pw_form_{name}", border=True):
                st.markdown(_("**Reset the password** of {name}").format(name=name))
                st.caption(_("A new password is drawn at random and shown once; the old one stops working."))
                st.form_submit_button(_("Draw a new password"), on_click=_password, args=(name,))
