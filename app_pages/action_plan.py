"""Action plan: activities by pillar and state, delays, leads, timeline, budget, status history,
one activity's detail, and (admin, committee) the status-change form."""
from datetime import date

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from dashboard import ui, updates
from dashboard.charts import plan as charts
from dashboard.domain import ACTIVITY_STATUS_LABELS, ACTIVITY_STATUSES, PILLAR_LABELS, PILLARS
from dashboard.queries import plan as q

ctx = ui.context()
_ = ctx._
t, f = ctx.t, ctx.filters

st.title(_("National Action Plan"))
info = ctx.query(q.plan_info, ctx.lang)
if info.empty:
    ui.empty_notice(t, _("No action plan is loaded in this database."))
    st.stop()
plan = info.iloc[-1]
currency = plan["currency"]
st.caption(_("{title} ({start} – {end}). Activities for {period}.").format(
    title=plan["title"], start=t.date(plan["starts_on"]), end=t.date(plan["ends_on"]),
    period=t.period(f.start, f.end)))

pillar_labels = {p: t.label(PILLAR_LABELS, p) for p in PILLARS}
state_labels = {s: _(q.STATE_LABELS[s]) for s in q.STATES}
status_labels = {s: t.label(ACTIVITY_STATUS_LABELS, s) for s in ACTIVITY_STATUSES}

# ---------------------------------------------------------------- page filters
leads = ctx.query(q.lead_options)
lead_names = dict(zip(leads["code"], leads["name"]))
c1, c2, c3 = st.columns(3)
pillars = c1.multiselect(_("Pillar"), list(PILLARS), format_func=pillar_labels.get, key="plan_pillars",
                         placeholder=_("All pillars"))
lead_codes = c2.multiselect(_("Lead organisation"), list(lead_names), format_func=lead_names.get, key="plan_leads",
                            placeholder=_("All organisations"))
statuses = c3.multiselect(_("Recorded status"), list(ACTIVITY_STATUSES), format_func=status_labels.get,
                          key="plan_statuses", placeholder=_("All statuses"))
sel = q.Selection(tuple(pillars), tuple(lead_codes), tuple(statuses))
st.caption(_("Activities whose planned start–end overlaps the period (an activity still open after its due date "
             "counts until it is completed or cancelled), in the chosen regions plus the national activities."))

summary = ctx.query(q.pillar_summary, sel)
if summary.empty or int(summary["total"].sum()) == 0:
    ui.empty_notice(t)
    st.stop()

# ---------------------------------------------------------------- pillar summary
st.subheader(_("Where each pillar stands"))
st.caption(_("Delayed: due date passed and not completed or cancelled. Colour by the share delayed "
             "(delayed ÷ activities not cancelled): green under 10 %, amber from 10 % to under 25 %, red from 25 %."))
badge = {"green": "green", "amber": "orange", "red": "red", "grey": "gray"}


def field(label: str, value) -> str:
    """'label: value' with the language's punctuation (a space before the colon in French)."""
    return _("{label}: {value}").format(label=label, value=value)


cols = st.columns(len(summary))
for col, row in zip(cols, summary.to_dict("records")):
    base = row["total"] - row["cancelled"]
    with col.container(border=True):
        rag_code = row["rag"]
        rag_label = _(q.RAG_LABELS[rag_code])
        st.markdown(f"**{pillar_labels[row['pillar']]}**  \n:{badge[row['rag']]}-badge[{rag_label}]")
        st.metric(_("Delayed"), f"{row['delayed']} / {base}" if base else "—",
                  help=_("Delayed activities out of the activities not cancelled."))
        parts = [field(state_labels[s], row[s]) for s in q.STATES if s != "delayed"]
        if row["reported_delayed"]:
            parts.append(_("reported delayed before the due date: {n}").format(n=row["reported_delayed"]))
        st.caption(" · ".join(parts))

st.subheader(_("Activities by pillar and status"))
st.caption(_("Status: the recorded status, with open activities past their due date shown as delayed."))
counts = ctx.query(q.state_counts, sel)
ctx.chart(charts.state_bars, counts, "key", _("Pillar"), _("Activities"), _("Status"), state_labels,
          key_labels=pillar_labels, key_order=list(PILLARS))

# ---------------------------------------------------------------- delayed activities
st.subheader(_("Delayed activities"))
st.caption(_("Due date passed and not completed or cancelled; days late = today − due date."))
late = ctx.query(q.delayed_activities, sel, ctx.lang)
if late.empty:
    st.success(_("No activity in this selection is past its due date."), icon=":material/check_circle:")
else:
    shown = late.assign(
        pillar=[pillar_labels[p] for p in late["pillar"]],
        region=[r if isinstance(r, str) else _("National level") for r in late["region"]],
        planned_end=[t.date(d) for d in late["planned_end"]],
        status=[status_labels.get(s, s) for s in late["status"]],
    )
    ui.show_dataframe(shown, columns={"code": _("Code"), "title": _("Activity"), "pillar": _("Pillar"),
                                      "lead": _("Lead organisation"), "region": _("Region"),
                                      "planned_end": _("Due date"), "days_late": _("Days late"),
                                      "status": _("Recorded status")})

# ---------------------------------------------------------------- by lead organisation
st.subheader(_("Activities by lead organisation"))
st.caption(_("Each activity counts once, for its lead organisation; status as above."))
by_lead = ctx.query(q.by_lead, sel)
ctx.chart(charts.state_bars, by_lead.rename(columns={"lead": "key"}), "key", _("Lead organisation"),
          _("Activities"), _("Status"), state_labels)

# ---------------------------------------------------------------- timeline
st.subheader(_("Timeline"))
st.caption(_("Each bar runs from the planned start to the planned end (due date); colour: status; "
             "the dashed line is today."))
tl = ctx.query(q.timeline, sel, ctx.lang)
ctx.chart(charts.timeline, tl, f.today, {
    "activity": _("Activity"), "dates": _("Planned dates"), "state": _("Status"), "pillar": _("Pillar"),
    "lead": _("Lead organisation"), "title": _("Title"), "start": _("Planned start"), "end": _("Due date"),
    "today": _("Today"),
}, state_labels, pillar_labels)

# ---------------------------------------------------------------- budget
st.subheader(_("Budget planned and spent"))
st.caption(_("Sum over the activities with a planned budget, in {currency}; execution = spent ÷ planned. "
             "Spending is what was last recorded for each activity.").format(currency=currency))
money = ctx.query(q.budget_by_pillar, sel)
if money.empty:
    ui.empty_notice(t, _("No activity in this selection has a planned budget."))
else:
    left, right = st.columns([3, 2])
    with left:
        ctx.chart(charts.budget, money, _("Pillar"), _("Million {currency}").format(currency=currency),
                  _("Budget"), pillar_labels, _("Planned"), _("Spent"))
    with right:
        total_planned, total_spent = money["planned"].sum(), money["spent"].sum()
        table = pd.DataFrame({
            "pillar": [pillar_labels[p] for p in money["pillar"]] + [_("All pillars")],
            "planned": [t.number(v) for v in money["planned"]] + [t.number(total_planned)],
            "spent": [t.number(v) for v in money["spent"]] + [t.number(total_spent)],
            "execution": [t.percent(v) if v is not None else "—" for v in money["execution"]]
            + [t.percent(total_spent / total_planned) if total_planned else "—"],
        })
        ui.show_dataframe(table, columns={"pillar": _("Pillar"), "planned": _("Planned"), "spent": _("Spent"),
                                          "execution": _("Execution")})

# ---------------------------------------------------------------- status over time
st.subheader(_("Status over time"))
st.caption(_("Activities in each recorded status at the end of each month of the period, from the dated status "
             "history (activities with no entry yet are not counted)."))
history = ctx.query(q.status_over_time, sel)
if history.empty:
    ui.empty_notice(t, _("No status change has been recorded for these activities yet."))
else:
    ctx.chart(charts.status_over_time, history, _("Month"), _("Activities"), _("Recorded status"), status_labels)

# ---------------------------------------------------------------- one activity
st.subheader(_("Activity detail"))
options = ctx.query(q.activity_options, sel, ctx.lang)
titles = dict(zip(options["code"], options["title"]))
code = st.selectbox(_("Activity"), list(titles), format_func=lambda c: f"{c} — {titles[c]}", key="plan_activity")
detail = ctx.query(q.activity_detail, code, ctx.lang)
if not detail.empty:
    d = detail.iloc[0]
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{d['title']}**")
        st.markdown(field(_("Pillar"), pillar_labels[d["pillar"]]) + "  \n" + field(_("Objective"), d["objective"]))
        st.markdown("  \n".join([
            field(_("Lead organisation"), d["lead"] or "—"), field(_("Partners"), d["partners"] or "—"),
            field(_("Region"), d["region"] if isinstance(d["region"], str) else _("National level"))]))
        if d["indicator"]:
            st.markdown(field(_("Indicator"), d["indicator"]))
    with right:
        status_line = status_labels.get(d["status"], d["status"])
        if d["state"] == "delayed":
            status_line += " — " + _("{days} days past its due date").format(days=t.number(d["days_late"]))
        st.markdown(field(_("Recorded status"), f"**{status_line}**"))
        st.markdown(field(_("Planned dates"), f"{t.date(d['planned_start'])} – {t.date(d['planned_end'])}"))
        spent = d["budget_spent"]
        planned = d["budget_planned"]
        st.markdown(field(_("Budget planned"), f"{t.number(planned) if pd.notna(planned) else '—'} {currency}") + "  \n"
                    + field(_("Budget spent"), f"{t.number(spent) if pd.notna(spent) else '—'} {currency}"))
    hist = ctx.query(q.activity_history, code)
    st.markdown("**" + _("Status history") + "**")
    if hist.empty:
        st.caption(_("No status change recorded yet."))
    else:
        ui.show_dataframe(hist.assign(
            changed_on=[t.date(x) for x in hist["changed_on"]],
            status=[status_labels.get(s, s) for s in hist["status"]],
            budget_spent=[t.number(v) if pd.notna(v) else "—" for v in hist["budget_spent"]],
            evidence_note=[n or "" for n in hist["evidence_note"]],
            recorded_at=[t.date(pd.Timestamp(x).date()) for x in hist["recorded_at"]],
        ), columns={"changed_on": _("Date"), "status": _("Status"), "evidence_note": _("Evidence note"),
                    "budget_spent": _("Budget spent"), "recorded_by": _("Recorded by"),
                    "recorded_at": _("Recorded on")},
           column_config={_("Evidence note"): st.column_config.TextColumn(width="large")})

    # ------------------------------------------------------------ the update form
    region_of = dict(zip(options["code"], options["region_code"]))
    may_update = ctx.viewer.role in updates.STATUS_ROLES and (
        ctx.viewer.regions is None or region_of.get(code) in ctx.viewer.regions)

    def _format(value):
        if isinstance(value, date):
            return t.date(value)
        if isinstance(value, float):
            return t.number(value, 0 if value.is_integer() else 2)
        return value

    def _submit(activity: str) -> None:
        ss = st.session_state
        try:
            with ui.engine().begin() as conn:
                problems = updates.record_status_change(
                    conn, ctx.viewer, activity, ss["plan_form_status"], ss["plan_form_date"], ss["plan_form_note"],
                    ss["plan_form_budget"], today=f.today)
        except sa.exc.OperationalError as exc:
            ss["plan_form_result"] = ("error", [str(exc.orig or exc)])
            return
        if problems:
            ss["plan_form_result"] = ("problems", problems)
            return
        ui.clear_caches()
        ss["plan_form_result"] = ("ok", activity)
        ss["plan_form_note"] = ""
        ss["plan_form_budget"] = None

    if may_update:
        result = st.session_state.pop("plan_form_result", None)
        with st.expander(_("Record a status change for {code}").format(code=code), expanded=result is not None,
                         icon=":material/edit_note:"):
            if result and result[0] == "ok":
                st.success(_("Status change recorded for {code}.").format(code=result[1]))
            elif result and result[0] == "problems":
                for p in result[1]:
                    st.error(_(p.msgid).format(**{k: _format(v) for k, v in p.params.items()}))
            elif result:
                st.error(_("The change could not be saved: {detail}").format(detail=result[1][0]))
            with st.form("plan_status_form"):
                a, b = st.columns(2)
                a.selectbox(_("New status"), list(ACTIVITY_STATUSES), format_func=status_labels.get,
                            index=list(ACTIVITY_STATUSES).index(d["status"]) if d["status"] in ACTIVITY_STATUSES else 0,
                            key="plan_form_status")
                b.date_input(_("Date of the change"), value=f.today, format="DD/MM/YYYY", key="plan_form_date",
                             help=_("Not in the future, not before the plan's start or the last recorded change."))
                st.text_area(_("Evidence note"), key="plan_form_note", max_chars=updates.MAX_NOTE,
                             help=_("What shows the change (report, minutes, photos…). Required to mark the activity "
                                    "completed or cancelled."))
                st.number_input(_("Budget spent to date ({currency}), optional").format(currency=currency),
                                value=None, step=1000.0, format="%.0f", key="plan_form_budget",
                                help=_("Total spent so far; leave empty to keep the recorded amount. "
                                       "At most ten times the budget planned."))
                st.form_submit_button(_("Record the change"), on_click=_submit, args=(code,), type="primary")
