"""Case flow: the cohort funnel, referrals between organisations, new identifications per
month and the justice track. Clicking a funnel stage or a matrix cell narrows the rest."""
import pandas as pd
import streamlit as st

from dashboard import privacy, ui
from dashboard.charts import flow as charts
from dashboard.charts import month_dates
from dashboard.domain import (EXPLOITATION_LABELS, JUDGEMENT_LABELS, JUDGEMENT_OUTCOMES, JUSTICE_LABELS, JUSTICE_STEPS,
                              ORG_TYPE_LABELS, SEX_LABELS, SEXES, EXPLOITATION_TYPES, STAGE_LABELS)
from dashboard.queries import flow as q

ctx = ui.context()
_ = ctx._
t = ctx.t
k = ctx.settings.k

st.title(_("Case flow"))
st.caption(_("Figures for {period}.").format(period=t.period(ctx.filters.start, ctx.filters.end)))
if ctx.viewer.aggregate_only:
    st.caption(_(privacy.SUPPRESSION_NOTE).format(k=k, k1=k - 1) + " "
               + _("Rates over fewer than {k} cases are not shown.").format(k=k))

# ---------------------------------------------------------------- click selection
# The chart keys change on reset, which clears both selections at once.
generation = st.session_state.setdefault("case_flow_generation", 0)
FUNNEL_KEY, MATRIX_KEY = f"case_flow_funnel_{generation}", f"case_flow_matrix_{generation}"
picked_stage = charts.selected(st.session_state.get(FUNNEL_KEY), charts.STAGE_SELECTION, ["stage"])
stage = picked_stage[0] if picked_stage and picked_stage[0] in q.FUNNEL_STAGES else None
pair = charts.selected(st.session_state.get(MATRIX_KEY), charts.PAIR_SELECTION, charts.PAIR_FIELDS)


def _reset():
    st.session_state["case_flow_generation"] = st.session_state.get("case_flow_generation", 0) + 1


def count_text(value) -> str:
    if isinstance(value, str):
        return value  # "< k" or "*"
    if value is None or pd.isna(value):
        return "—"
    return t.number(value)


def visible(df: pd.DataFrame, col: str) -> bool:
    """Whether a chart of ``col`` would show anything (hidden "< k" / "*" cells are dropped)."""
    return bool(pd.to_numeric(df[col], errors="coerce").fillna(0).gt(0).any())


def share_text(value) -> str:
    if value is None or pd.isna(value):
        return "—"
    return t.percent(value)


names = {}
if pair:
    orgs = ctx.query(q.organisations_ordered)
    names = dict(zip(orgs["code"], orgs["name"])) if not orgs.empty else {}

if stage or pair:
    parts = []
    if stage:
        parts.append(_("cases that reached “{stage}”").format(stage=t.label(STAGE_LABELS, stage)))
    if pair:
        parts.append(_("cases referred by {sender} to {receiver} in the period").format(
            sender=f"{names.get(pair[0], pair[0])} ({pair[0]})", receiver=f"{names.get(pair[1], pair[1])} ({pair[1]})"))
    st.info(_("Selection: {selection}. The funnel, the matrix, the monthly figures and the justice track "
              "below show only these cases.").format(
        selection=parts[0] if len(parts) == 1 else _("{first} and {second}").format(first=parts[0], second=parts[1])),
        icon=":material/filter_alt:")
    st.button(_("Clear the selection"), on_click=_reset, key="case_flow_reset", icon=":material/filter_alt_off:")
else:
    st.caption(_("Click a stage of the funnel or a cell of the matrix to look only at those cases; "
                 "double-click or use the button that appears to clear it."))

# ---------------------------------------------------------------- funnel
st.subheader(_("Cohort funnel through the referral chain"))
st.caption(_("Cases identified in the period and the furthest stage each has reached by today. "
             "Conversion A → B = cases that reached B ÷ cases that reached A; “Case closed” counts the cases "
             "closed by today from any stage, as a share of the cohort."))
raw_funnel = ctx.query(q.funnel, pair=pair)
funnel = ctx.protect(raw_funnel, counts=["reached", "base", "stopped_open", "stopped_closed"],
                     stats={"conversion": "base"})
if funnel.empty:
    ui.empty_notice(t)
else:
    fd = funnel.copy()
    fd["label"] = [t.label(STAGE_LABELS, s) for s in fd["stage"]]
    fd["kind"] = ["closed" if s == "closed" else "progress" for s in fd["stage"]]
    fd["reached_text"] = fd["reached"].map(count_text)
    fd["conversion_text"] = fd["conversion"].map(share_text)
    texts = []
    for row in fd.itertuples():
        if row.stage == "identification":
            texts.append(_("{n} (cohort)").format(n=row.reached_text))
        elif row.stage == "closed":
            texts.append(_("{n} · {share} of the cohort").format(n=row.reached_text, share=row.conversion_text))
        else:
            texts.append(f"{row.reached_text} · {row.conversion_text}")
    fd["text"] = texts
    tooltips = {"label": _("Stage"), "reached_text": _("Cases that reached it"), "conversion_text": _("Conversion")}
    if ctx.viewer.case_level:
        fd["open_text"] = fd["stopped_open"].map(count_text)
        fd["closed_text"] = fd["stopped_closed"].map(count_text)
        tooltips |= {"open_text": _("Went no further, still open"), "closed_text": _("Went no further, closed")}
    if stage:
        st.caption(_("The funnel itself is not narrowed by the stage you picked."))
    ctx.chart(charts.funnel, fd, _("Cases"), tooltips, on_select="rerun", key=FUNNEL_KEY,
              selection_mode=charts.STAGE_SELECTION)

# ---------------------------------------------------------------- referral matrix
st.subheader(_("Referrals between organisations"))
st.caption(_("Referrals sent in the period, by sending organisation (rows) and receiving organisation (columns), "
             "in the order of the referral chain; a referral back to an earlier organisation is just another cell. "
             "Hover a cell for the full names."))
matrix_raw = ctx.query(q.referral_matrix, stage=stage)
matrix = privacy.protect_crosstab(matrix_raw, ctx.viewer, k, "from_code", "to_code", "referrals", totals=False)
if matrix.empty:
    ui.empty_notice(t)
else:
    md = matrix.copy()
    md["text"] = md["referrals"].map(count_text)
    md["from_label"] = md["from_name"] + " (" + md["from_code"] + ")"
    md["to_label"] = md["to_name"] + " (" + md["to_code"] + ")"
    md["from_type_label"] = [t.label(ORG_TYPE_LABELS, x) for x in md["from_type"]]
    md["to_type_label"] = [t.label(ORG_TYPE_LABELS, x) for x in md["to_type"]]
    if pair:
        st.caption(_("The matrix itself is not narrowed by the cell you picked."))
    ctx.chart(charts.matrix, md, _("Sent by"), _("Received by"), _("Referrals sent"),
              {"from_label": _("Sent by"), "from_type_label": _("Type of sender"), "to_label": _("Received by"),
               "to_type_label": _("Type of receiver"), "text": _("Referrals sent")},
              on_select="rerun", key=MATRIX_KEY, selection_mode=charts.PAIR_SELECTION, width="content")
    with st.expander(_("Organisation codes")):
        codes = pd.concat([
            md[["from_code", "from_name", "from_type_label", "from_order"]].set_axis(["code", "name", "type", "o"], axis=1),
            md[["to_code", "to_name", "to_type_label", "to_order"]].set_axis(["code", "name", "type", "o"], axis=1),
        ]).drop_duplicates("code").sort_values("o").reset_index(drop=True)
        ui.show_dataframe(codes.drop(columns="o"), columns={"code": _("Code"), "name": _("Organisation"), "type": _("Type")})

# ---------------------------------------------------------------- monthly identifications
st.subheader(_("New identifications per month"))
by_labels = {b: _(q.BREAKDOWN_LABELS[b]) for b in q.BREAKDOWNS}
by = st.radio(_("Break down by"), q.BREAKDOWNS, format_func=by_labels.get, horizontal=True, key="case_flow_breakdown")
st.caption(_("Cases by month of identification. Minor = age band 0–8 or 9–17 at identification; "
             "a case with several exploitation types counts once under each."))
monthly = privacy.protect_crosstab(ctx.query(q.identifications_by_month, by=by, stage=stage, pair=pair), ctx.viewer,
                                   k, "month", "category", "cases", totals=False)
if monthly.empty:
    ui.empty_notice(t)
else:
    if by == "sex":
        labels, codes = SEX_LABELS, list(SEXES)
    elif by == "age_group":
        labels, codes = q.AGE_GROUP_LABELS, list(q.AGE_GROUP_LABELS)
    elif by == "nationality":
        labels, codes = q.NATIONALITY_LABELS, list(q.NATIONALITY_LABELS)
    else:
        labels, codes = {**EXPLOITATION_LABELS, "unknown": q.NOT_RECORDED}, [*EXPLOITATION_TYPES, "unknown"]
    md = month_dates(monthly)
    md["month_label"] = [t.month(m) for m in md["month"]]
    md["label"] = [t.label(labels, x) for x in md["category"]]
    present = set(md["category"])
    order = [t.label(labels, x) for x in codes if x in present]
    months = [t.month(m) for m in pd.date_range(ctx.filters.start.replace(day=1), ctx.filters.end, freq="MS")]
    if visible(md, "cases"):
        ctx.chart(charts.monthly, md, _("Month"), _("Cases identified"), by_labels[by], order, months)
    else:
        ui.empty_notice(t, _("Every count here is below {k}: hidden to protect survivors.").format(k=k))
    if monthly["cases"].map(lambda v: isinstance(v, str)).any():
        st.caption(_("Groups hidden to protect survivors (fewer than {k} cases, or needed to keep such a count "
                     "hidden) are left out of the chart.").format(k=k))

# ---------------------------------------------------------------- justice track
st.subheader(_("Justice track"))
st.caption(_("Complaints, investigations, prosecutions and judgements whose date falls in the period "
             "(each event counted once), judgements by outcome."))
justice = ctx.protect(ctx.query(q.justice_track, stage=stage, pair=pair), counts=["events"])
if justice.empty:
    ui.empty_notice(t)
else:
    jd = justice.copy()
    steps = {s: jd.loc[jd["step"] == s, "events"] for s in ("complaint", "investigation", "prosecution")}
    convictions = jd.loc[(jd["step"] == "judgement") & (jd["outcome"] == "conviction"), "events"]
    cols = st.columns(4)
    figures = [
        (_("Complaints"), steps["complaint"], _("Complaints filed in the period.")),
        (_("Investigations"), steps["investigation"], _("Investigations opened in the period.")),
        (_("Prosecutions"), steps["prosecution"], _("Prosecutions started in the period.")),
        (_("Convictions"), convictions, _("Judgements in the period that ended in a conviction.")),
    ]
    for col, (label, values, help_text) in zip(cols, figures):
        with col:
            ui.metric(label, count_text(values.iloc[0]) if len(values) else t.number(0), help=help_text)
    jd["label"] = [t.label(JUSTICE_LABELS, s) for s in jd["step"]]
    no_outcome = _("Outcome not recorded")
    jd["outcome_label"] = [
        (t.label(JUDGEMENT_LABELS, o) if isinstance(o, str) else no_outcome) if s == "judgement" else _("Events")
        for s, o in zip(jd["step"], jd["outcome"])
    ]
    outcomes = [_("Events"), *(t.label(JUDGEMENT_LABELS, o) for o in JUDGEMENT_OUTCOMES), no_outcome]
    order = [t.label(JUSTICE_LABELS, s) for s in JUSTICE_STEPS]
    if visible(jd, "events"):
        ctx.chart(charts.justice, jd, _("Events"), _("Step"), _("Judgement outcome"), order, outcomes)
