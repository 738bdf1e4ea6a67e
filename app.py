"""Entry point: page config, language, database, sign-in, role → st.navigation(...).run()."""
from __future__ import annotations

import os
from datetime import date
from urllib.parse import urlsplit

import streamlit as st
import streamlit_authenticator as stauth
from streamlit.runtime.scriptrunner import RerunException

from dashboard import audit, auth, safety, ui, users
from dashboard.db import DatabaseUnavailable
from dashboard.domain import ROLE_LABELS
from dashboard.navigation import default_page, pages_for

st.set_page_config(page_title="NRM Dashboard", page_icon=":material/hub:", layout="wide")
# The page a new session was opened on (a typed, bookmarked or shared link); see "landing" below.
if "_nrm_landing" not in st.session_state:
    st.session_state["_nrm_landing"] = urlsplit(st.context.url or "").path.rstrip("/").rsplit("/", 1)[-1]

settings = ui.settings()
t = ui.language_selector()
_ = t.gettext

# ---------------------------------------------------------------- settings and database
problems = safety.setting_problems(settings)
if problems:
    st.error(_("The dashboard will not start in production mode:") + "\n\n" + "\n".join(f"- {_(p)}" for p in problems))
    st.stop()
try:
    with st.spinner(_("Preparing the database (on first start this creates the demo data, about a minute)…")):
        engine = ui.engine()
    with engine.connect() as conn:
        problems = safety.database_problems(settings, conn)
        credentials = auth.credentials(conn)
except DatabaseUnavailable as exc:
    ui.database_down(t, str(exc))
    st.stop()
if problems:
    st.error(_("The dashboard will not start in production mode:") + "\n\n" + "\n".join(f"- {_(p)}" for p in problems))
    st.stop()

# ---------------------------------------------------------------- sign-in
authenticator = stauth.Authenticate(
    credentials,
    "nrm_dashboard",
    settings.cookie_key,
    settings.session_minutes / 1440,
    auto_hash=False,
    **({"login_sleep_time": float(os.environ["NRM_LOGIN_SLEEP"])} if os.environ.get("NRM_LOGIN_SLEEP") else {}),
)
model = authenticator.authentication_controller.authentication_model
_library_login = model.login


def _login_with_lockout(username=None, password=None, *args, **kwargs):
    """Form sign-ins go through the lockout and the audit log; cookie re-logins do not."""
    if not username:
        return _library_login(username, password, *args, **kwargs)
    name = username.lower().strip()
    with engine.begin() as conn:
        until = auth.locked_until(conn, name)
        if until is not None:  # refused without checking the password, and audited
            auth.record_refused(conn, name, until)
    if until is not None:
        raise auth.LoginLocked(name, until)
    ok = _library_login(username, password, *args, **kwargs)
    with engine.begin() as conn:
        auth.record_attempt(conn, name, bool(ok), settings)
    if ok:
        st.session_state["login_at"] = audit.now()
    return ok


model.login = _login_with_lockout

login_error = None
try:
    authenticator.login(
        location="main",
        fields={"Form name": _("Sign in"), "Username": _("User name"), "Password": _("Password"), "Login": _("Sign in")},
    )
except auth.LoginLocked as exc:
    login_error = _("Too many failed attempts: this account is locked until {time} UTC.").format(time=f"{exc.until:%H:%M}")
except stauth.utilities.LoginError as exc:  # e.g. a cookie naming a removed user
    login_error = str(exc)

status = st.session_state.get("authentication_status")
viewer = None
if status:
    with engine.connect() as conn:
        viewer = users.viewer_for(conn, st.session_state["username"])
    if viewer is None or auth.session_expired(st.session_state.get("login_at"), settings):
        with engine.begin() as conn:
            auth.record_logout(conn, st.session_state.get("username"), "disabled" if viewer is None else "expired")
        st.session_state.pop("login_at", None)
        st.session_state["session_ended"] = "disabled" if viewer is None else "expired"
        authenticator.logout(location="unrendered")
        st.session_state["authentication_status"] = None
        st.rerun()
    st.session_state.setdefault("login_at", audit.now())

if viewer is None:
    def sign_in_page():
        if login_error:
            st.error(login_error)
        elif status is False:
            st.error(_("User name or password is incorrect."))
        elif st.session_state.get("session_ended") == "expired":
            st.info(_("Your session has expired: please sign in again."))
        st.caption(_("National Referral Mechanism dashboard: case flow, bottlenecks, shelters and the National Action Plan."))
        if ui.reference_data(settings.database_url)["demo"]:
            st.info(_("Demo: sign in as admin, committee, minister, partner or focal, password {password}.").format(password=users.DEMO_PASSWORD))

    st.navigation([st.Page(sign_in_page, title=_("Sign in"), url_path="sign-in", default=True)], position="hidden").run()
    st.stop()

# ---------------------------------------------------------------- signed in
ref = ui.reference_data(settings.database_url)
filters = ui.sidebar_filters(t, viewer, ref["regions"], date.today())
st.sidebar.divider()
st.sidebar.caption(f"{viewer.display_name} · {_(ROLE_LABELS[viewer.role])}")


def _on_logout(info: dict) -> None:
    with engine.begin() as conn:
        auth.record_logout(conn, info.get("username"), "button")
    st.session_state.pop("login_at", None)


authenticator.logout(button_name=_("Sign out"), location="sidebar", callback=_on_logout)
if not st.session_state.get("authentication_status"):  # just signed out (the cookie is deleted on this run)
    st.info(_("You are signed out."))
    st.button(_("Sign in again"), key="signed_out_again")
    st.stop()
if ref["demo"]:
    st.warning(_("Demo data: every case here is invented. Do not use these figures."), icon=":material/science:")

ui.set_context(ui.PageContext(t=t, viewer=viewer, filters=filters, settings=settings))
specs = pages_for(viewer)
home = default_page(viewer)
sections: dict[str, list] = {}
for spec in specs:
    sections.setdefault(_(spec.section), []).append(
        st.Page(spec.file, title=_(spec.title), icon=spec.icon, url_path=spec.url_path, default=spec is home)
    )
page = st.navigation(sections)
# Landing: in a new session the re-login cookie's component sends its value while the first run
# is still signing in, and that rerun reaches st.navigation without the URL's page, so a typed or
# shared link would open the default page. Go to the page the URL named (if this user has it),
# until one run has shown a page to the end.
landing = st.session_state.get("_nrm_landing")
wanted = next((p for group in sections.values() for p in group if landing and p.url_path == landing), None)
if wanted is not None and page.url_path != wanted.url_path:
    st.switch_page(wanted, query_params=st.query_params.to_dict())
try:
    page.run()
except DatabaseUnavailable as exc:
    ui.database_down(t, str(exc))
except RerunException:
    raise  # interrupted by a newer run, or the page asked for one: nothing was shown yet
except BaseException:
    st.session_state["_nrm_landing"] = ""  # st.stop() in a page: it was shown
    raise
st.session_state["_nrm_landing"] = ""
