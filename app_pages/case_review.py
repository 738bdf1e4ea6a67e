"""Case review (committee and administrators): the meeting's agenda of stuck cases, the
timeline of one case under its pseudonymous code, a print view and a CSV export.

Case level: every read goes through the @privacy.case_level functions of
dashboard.queries.review; the page view, each case opened and each export are written to
the audit log.
"""
from datetime import date

import streamlit as st

from dashboard import audit, ui
from dashboard.charts import review as charts
from dashboard.domain import CASE_STATUS_LABELS, SEX_LABELS, STAGE_LABELS, TRAFFICKING_STATUS_LABELS
from dashboard.export import csv as csv_export
from dashboard.profiles import ProfileError, load_profile
from dashboard.queries import review as q

ctx = ui.context()
_ = ctx._
t, f, viewer = ctx.t, ctx.filters, ctx.viewer
engine = ui.engine()
ref = ui.reference_data(ctx.settings.database_url)

CASE_KEY, TABLE_KEY, OPENED_KEY, VIEWS_KEY = "case_review_case", "case_review_table", "case_review_opened", "case_review_views"


@st.cache_data(show_spinner=False)
def _thresholds(country: str):
    return load_profile(country).review


st.title(_("Case review"))
if not ref["country"]:
    st.error(_("No country profile is loaded in this database, so the review thresholds are unknown. "
               "Ask the administrator to load the reference data."))
    st.stop()
try:
    th = _thresholds(ref["country"])
except (ProfileError, OSError) as exc:
    st.error(_("The country profile cannot be read, so the review thresholds are unknown."))
    with st.expander(_("Technical detail")):
        st.code(str(exc))
    st.stop()

# The page view is logged once per session and filters, not on every rerun.
view_key = (tuple(sorted(f.to_params().items())), f.today.isoformat())
seen = st.session_state.setdefault(VIEWS_KEY, set())
if view_key not in seen:
    audit.record_now(engine, viewer.username, "case_level_view", target="case-review", filters=f)
    seen.add(view_key)

counts = ctx.case_query(q.agenda_counts, th)
today = t.date(f.today)
if f.effective_regions() is None:
    regions_text = _("all regions")
else:
    regions_text = ", ".join(ref["regions"].get(code, code) for code in f.effective_regions())
thresholds_text = _(
    "Thresholds of the country profile: a referral past the target of the receiving organisation; no assistance "
    "{assist} days after identification; a shelter stay longer than {stay} days; nothing recorded for {still} days."
).format(assist=th.no_assistance_days, stay=th.long_stay_days, still=th.no_movement_days)
period_text = _("Cases stuck today ({today}), whatever the period chosen in the sidebar: the period does not "
                "restrict the agenda; the region filter does ({regions}).").format(today=today, regions=regions_text)

print_view = st.toggle(_("Print view"), key="case_review_print",
                       help=_("A plain page with the agenda only, to print from the browser."))

reason_labels = {code: _(msgid) for code, msgid in q.REASON_LABELS.items()}
heads = {col: _(msgid) for col, msgid in q.AGENDA_HEADERS.items()}  # agenda column headings
help_texts = {
    "all": _("Cases with at least one of the reasons below, as of today (a case with several reasons counts once)."),
    "overdue_referral": _("Referrals with no decision, sent longer ago than the target of the receiving organisation "
                          "(profile targets by organisation type and service)."),
    "no_assistance": _("Open cases identified more than {n} days ago with no service started and no immediate "
                       "assistance recorded.").format(n=th.no_assistance_days),
    "long_stay": _("Shelter stays still open that began more than {n} days ago.").format(n=th.long_stay_days),
    "no_movement": _("Open cases with no stage event, referral, service or shelter stay change for more than {n} "
                     "days.").format(n=th.no_movement_days),
}

# ---------------------------------------------------------------- print view
if print_view:
    st.html("""<style>
@media print {
  [data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
  [data-testid="stSidebarCollapsedControl"], .st-key-case_review_print, .st-key-case_review_print_hint,
  .st-key-case_review_meeting { display: none !important; }
  [data-testid="stMain"] { margin-left: 0 !important; }
  [data-testid="stTable"] tr { break-inside: avoid; }
  .block-container { padding-top: 0 !important; max-width: 100% !important; }
}
[data-testid="stTable"] td:nth-child(2) { white-space: nowrap; }
</style>""")
    with st.container(key="case_review_print_hint"):
        st.info(_("Use your browser's Print command (Ctrl+P, or ⌘P on a Mac) to print this agenda or save it as PDF. "
                  "The sidebar and these controls are left out of the printout."), icon=":material/print:")
        meeting = st.date_input(_("Meeting date"), value=f.today, key="case_review_meeting", format="DD/MM/YYYY")
    if not isinstance(meeting, date):
        meeting = f.today
    st.subheader(_("Case review agenda — meeting of {date}").format(date=t.date(meeting, "long")))
    st.markdown(f"{period_text}  \n{thresholds_text}")
    pair = _("**{label}**: {value}")
    st.markdown("  \n".join(pair.format(label=reason_labels[code], value=t.number(counts[code])) for code in q.REASONS)
                + "  \n" + pair.format(label=_("Cases on the agenda"), value=t.number(counts["all"])))
    df = ctx.case_query(q.agenda, th)
    if df.empty:
        ui.empty_notice(t, _("No case needs attention in this selection."))
    else:
        table = q.agenda_table(df, t)[["case_code", "days_past", "why", "holder_name", "region_name"]]
        table.insert(0, "rank", range(1, len(table) + 1))
        table["days_past"] = [t.number(v) for v in table["days_past"]]
        st.table(table.rename(columns={"rank": _("No."), **heads}), hide_index=True)
        listed = int(df["listed"].iloc[0])
        if listed > len(df):
            st.caption(_("The {shown} most urgent of {listed} cases.").format(shown=t.number(len(df)), listed=t.number(listed)))
    st.caption(_("Printed from the NRM dashboard by {user} on {date}. Case codes are pseudonymous; keep this "
                 "document within the committee.").format(user=viewer.display_name or viewer.username, date=today))
    st.stop()

# ---------------------------------------------------------------- agenda
st.caption(period_text)
st.subheader(_("Agenda: 1 case") if counts["all"] == 1 else _("Agenda: {n} cases").format(n=t.number(counts["all"])),
             help=help_texts["all"])
with st.container(horizontal=True, gap="small"):  # metrics as wide as their labels, wrapping if need be
    for code in q.REASONS:
        ui.metric(reason_labels[code], t.number(counts[code]), help=help_texts[code], width="content")
st.caption(thresholds_text)
if counts["all"]:
    picked = st.pills(_("Show the cases with"), list(q.REASONS), selection_mode="multi", default=list(q.REASONS),
                      format_func=reason_labels.get, key="case_review_reasons")
else:
    picked = list(q.REASONS)
only = tuple(code for code in q.REASONS if code in (picked or []))
df = ctx.case_query(q.agenda, th, only=None if len(only) == len(q.REASONS) else only)
listed = int(df["listed"].iloc[0]) if not df.empty else 0

if df.empty:
    if counts["all"] == 0:
        ui.empty_notice(t, _("No case needs attention in this selection."))
    elif not only:
        ui.empty_notice(t, _("Choose at least one reason to list the cases."))
    else:
        ui.empty_notice(t, _("No case on the agenda for the reasons chosen."))
    codes: list[str] = []
else:
    shown = q.agenda_table(df, t)
    codes = shown["case_code"].tolist()

    def _pick_row():
        rows = st.session_state[TABLE_KEY].selection.rows
        if rows and rows[0] < len(codes):
            st.session_state[CASE_KEY] = codes[rows[0]]

    st.dataframe(
        shown, hide_index=True, width="stretch", key=TABLE_KEY, on_select=_pick_row, selection_mode="single-row",
        column_config={
            "case_code": st.column_config.TextColumn(heads["case_code"], width=125),
            "days_past": st.column_config.NumberColumn(heads["days_past"], width=150,
                                                       help=_("Days beyond the threshold, for the most urgent reason of the case.")),
            "why": st.column_config.TextColumn(heads["why"], width=520),
            "holder_name": st.column_config.TextColumn(heads["holder_name"],
                                                       help=_("The organisation holding the case now.")),
            **{col: st.column_config.TextColumn(heads[col])
               for col in ("region_name", "sex", "age_band", "case_status", "current_stage")},
        },
    )
    note = _("Most urgent first: days past the threshold, then the number of reasons. Select a row to open its timeline.")
    if listed > len(df):
        note += " " + _("The {shown} most urgent of {listed} cases are shown; the CSV file holds them all.").format(
            shown=t.number(len(df)), listed=t.number(listed))
    st.caption(note)

    def _log_export(rows: int):
        audit.record_now(engine, viewer.username, "export", target="case-review", filters=f,
                         detail={"what": "case_review_agenda", "rows": rows})

    sep = csv_export.separator(t.lang)

    def _agenda_csv() -> bytes:
        with engine.connect() as conn:
            full = q.agenda(conn, f, viewer, th, limit=None, only=None if len(only) == len(q.REASONS) else only)
        return csv_export.to_csv(q.agenda_table(full, t), heads, sep=sep)

    st.download_button(
        _("Download the agenda (CSV)"), data=_agenda_csv, file_name=f"case-review-agenda-{f.today.isoformat()}.csv",
        mime="text/csv", icon=":material/download:", key="case_review_csv", on_click=_log_export, args=(listed,),
        help=_("All {n} cases of the agenda, for Excel (UTF-8). The download is written to the audit log.").format(
            n=t.number(listed)),
    )

# ---------------------------------------------------------------- one case
if not codes:
    st.stop()
st.subheader(_("Case timeline"))
if st.session_state.get(CASE_KEY) not in codes:
    st.session_state[CASE_KEY] = None
code = st.selectbox(_("Case"), codes, key=CASE_KEY, index=None, placeholder=_("Choose a case of the agenda"),
                    help=_("Or select a row of the agenda."))
if code is None:
    st.stop()
if st.session_state.get(OPENED_KEY) != code:
    audit.record_now(engine, viewer.username, "case_open", target=code, filters=f)
    st.session_state[OPENED_KEY] = code

head = ctx.case_query(q.case_header, code)
if head.empty:
    ui.empty_notice(t, _("This case is outside the current selection."))
    st.stop()
h = head.iloc[0]
nationality = t.locale.territories.get(h["nationality"], h["nationality"]) if h["nationality"] else "—"
facts = [
    (_("Sex"), t.label(SEX_LABELS, h["sex"])),
    (_("Age band"), _("Unknown") if h["age_band"] == "unknown" else h["age_band"]),
    (_("Nationality"), nationality),
    (_("Region"), h["region_name"]),
    (_("Status"), f"{t.label(CASE_STATUS_LABELS, h['case_status'])} · {t.label(TRAFFICKING_STATUS_LABELS, h['trafficking_status'])}"),
    (_("Stage"), t.label(STAGE_LABELS, h["current_stage"])),
    (_("Held by"), h["holder_name"] or "—"),
]
st.markdown(f"### {h['case_code']}")
pair = _("**{label}**: {value}")
st.markdown(" · ".join(pair.format(label=label, value=value) for label, value in facts))

rows = q.timeline_rows(ctx.case_query(q.case_timeline, code), t, f.today)
if rows.empty:
    ui.empty_notice(t, _("Nothing is recorded for this case yet."))
    st.stop()
tracks = [_(msgid) for msgid in q.TIMELINE_KIND_LABELS.values()]
theads = {col: _(msgid) for col, msgid in q.TIMELINE_HEADERS.items()}  # timeline column headings
tooltip = [(col, theads[col]) for col in ("what", "date", "until", "org", "detail")]
ctx.chart(charts.timeline, rows, tracks, _("Date"), _("Track"), tooltip)
st.caption(_("Diamonds are stage and justice events; bars run from a referral's sending to its decision, and over "
             "services and shelter stays; lighter bars are still open (drawn up to today)."))
st.table(rows[list(q.TIMELINE_HEADERS)].rename(columns=theads), hide_index=True)
