"""Project indicators: results matrix with progress and traffic lights, trend per quarter,
disaggregation by sex, value history, and the form to record a manual value."""
from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from dashboard import ui, updates
from dashboard.charts import indicators as charts
from dashboard.domain import SEX_LABELS
from dashboard.queries import indicators as q

ctx = ui.context()
_ = ctx._
t, f = ctx.t, ctx.filters
k = ctx.settings.k

st.title(_("Project indicators"))
projects = ctx.query(q.projects, ctx.lang)
if projects.empty:
    ui.empty_notice(t, _("No project is loaded in this database."))
    st.stop()
titles = dict(zip(projects["code"], projects["title"]))
project = st.selectbox(_("Project"), list(titles), format_func=titles.get, key="ind_project") \
    if len(titles) > 1 else projects["code"].iloc[0]
p = projects.set_index("code").loc[project]
st.markdown(f"**{p['title']}**  \n" + _("{organisation} · donor: {donor} · {start} – {end}").format(
    organisation=p["organisation"] or "—", donor=p["donor"] or "—", start=t.date(p["starts_on"]),
    end=t.date(p["ends_on"])))
st.caption(_("Progress = (actual − baseline) ÷ (target − baseline), capped at 0–100 %, in the indicator's direction. "
             "Light: green when progress is at least the share of the indicator's time elapsed (baseline to target date) "
             "minus 10 points, amber down to minus 25 points, red below; grey without a value. Computed indicators come "
             "live from case data with the filters: counts from the baseline date to the end of the period (at most the "
             "target date), rates over the period. Recorded indicators: the value of the latest quarter ending by the "
             "end of the period."))

sex_labels = {"all": _("Total"), "female": t.label(SEX_LABELS, "female"), "male": t.label(SEX_LABELS, "male")}
light_css = {"green": "background-color: #cfe8d7; color: #14532d", "amber": "background-color: #fbe7b5; color: #6b4600",
             "red": "background-color: #f6d0cc; color: #7a1b12", "grey": "background-color: #eeeeee; color: #444444"}


# the trends of every computed count, in one pass each: the matrix's counts are their last values
count_series = ctx.query(q.count_series, project)


def series_of(code: str, kind: str) -> pd.DataFrame:
    if kind == "count":
        return count_series[count_series["code"] == code].drop(columns="code").reset_index(drop=True)
    return ctx.query(q.indicator_series, code)


def protected_series(code: str, kind: str) -> pd.DataFrame:
    """The trend of an indicator, safe for this viewer (small counts hidden, small steps withheld)."""
    df = ctx.protect(series_of(code, kind), counts=["count", "n"], stats={"rate": "n"})
    return q.withhold_small_steps(df, k) if ctx.viewer.aggregate_only else df


def quarter_name(key: str) -> str:
    year, quarter = key.split("-Q")
    return _("Q{quarter} {year}").format(quarter=quarter, year=year)


def show_value(unit: str, value) -> str:
    if isinstance(value, str):
        return value  # "< k"
    if value is None or pd.isna(value):
        return "—"
    if unit == "yes_no":
        return _("Yes") if value >= 0.5 else _("No")
    if unit == "percent":
        return t.percent(value / 100, 1)
    if unit == "days":
        return _("{n} days").format(n=t.number(value, 1))
    return t.number(value, 0 if float(value).is_integer() else 1)


def raw_value(row) -> object:
    return row["manual"] if row["kind"] == "manual" else row["count"] if row["kind"] == "count" else row["rate"]


matrix = q.fill_counts(ctx.query(q.results_matrix, project, ctx.lang, counts=False), count_series)
matrix = ctx.protect(matrix, counts=["count", "n"], stats={"rate": "n"})
if ctx.viewer.aggregate_only:
    codes = matrix.loc[matrix["kind"] == "count", "code"].unique()
    matrix = q.align_counts(matrix, {c: protected_series(c, "count") for c in codes})
matrix = q.with_progress(matrix)

# ---------------------------------------------------------------- results matrix
st.subheader(_("Results matrix"))
if matrix.empty:
    ui.empty_notice(t, _("This project has no indicators."))
    st.stop()
main = matrix[matrix["sex"] == "all"]
kind_labels = {"manual": _("Recorded"), "count": _("Computed"), "rate": _("Computed")}
for outcome, group in main.groupby("outcome", sort=False):
    st.markdown("**" + _("Outcome {code}").format(code=outcome) + "** — " + group["outcome_title"].iloc[0])
    for output, rows in group.groupby(group["output"].fillna(""), sort=False):
        if output:
            st.markdown(_("Output {code}").format(code=output) + " — " + rows["output_title"].iloc[0])
        cols = {"indicator": _("Indicator"), "source": _("Source"), "baseline": _("Baseline"), "target": _("Target"),
                "actual": _("Latest value"), "progress": _("Progress"), "light": _("Status")}
        table = pd.DataFrame({
            cols["indicator"]: [f"{c} — {lbl}" for c, lbl in zip(rows["code"], rows["label"])],
            cols["source"]: [kind_labels[x] for x in rows["kind"]],
            cols["baseline"]: [show_value(u, b) for u, b in zip(rows["unit"], rows["baseline"])],
            cols["target"]: [show_value(u, tg) for u, tg in zip(rows["unit"], rows["target"])],
            cols["actual"]: [show_value(u, raw_value(r)) for u, (_i, r) in zip(rows["unit"], rows.iterrows())],
            cols["progress"]: [float("nan") if v is None or pd.isna(v) else 100 * v for v in rows["progress"]],
            cols["light"]: [_(q.LIGHT_LABELS[x]) for x in rows["light"]],
        })
        lights = list(rows["light"])
        styled = (table.style.hide(axis="index")
                  .format({cols["progress"]: lambda v: "—" if v is None or pd.isna(v) else t.percent(v / 100)})
                  .bar(subset=[cols["progress"]], vmin=0, vmax=100, color="#9ecae1", height=60)
                  .apply(lambda col: [light_css[x] for x in lights], subset=[cols["light"]]))
        st.table(styled)
st.caption(_("Target: to reach by the target date (see the indicator detail). Latest value — recorded: the latest "
             "quarter ending by the end of the period; computed: counts since the baseline date, rates over the period."))

# ---------------------------------------------------------------- one indicator
st.subheader(_("Indicator detail"))
labels = dict(zip(main["code"], main["label"]))
code = st.selectbox(_("Indicator"), list(labels), format_func=lambda c: f"{c} — {labels[c]}", key="ind_indicator")
row = main[main["code"] == code].iloc[0]
computation = row["computation"]
help_text = _(q.COMPUTATION_HELP[computation]) if row["kind"] != "manual" else _(
    "Recorded by hand for each quarter; when a quarter is recorded again, the latest entry counts.")
if row["kind"] == "count" and pd.notna(row["as_of"]):
    help_text += " " + _("Counted from {start} to {end}.").format(start=t.date(row["baseline_on"]), end=t.date(row["as_of"]))
elif row["kind"] == "rate":
    help_text += " " + _("Measured over {period}.").format(period=t.period(f.start, f.end))
st.caption(help_text)
m1, m2, m3, m4 = st.columns(4)
with m1:
    ui.metric(_("Baseline"), show_value(row["unit"], row["baseline"]), help=_("Measured on {date}").format(date=t.date(row["baseline_on"])))
with m2:
    ui.metric(_("Target"), show_value(row["unit"], row["target"]), help=_("To reach by {date}").format(date=t.date(row["target_on"])))
with m3:
    ui.metric(_("Latest value"), show_value(row["unit"], raw_value(row)),
              help=_("As of {date}").format(date=t.date(row["as_of"])) if pd.notna(row["as_of"]) else None)
with m4:
    ui.metric(_("Progress"), t.percent(row["progress"]) if pd.notna(row["progress"]) else "—",
              help=_("Time elapsed: {share}").format(share=t.percent(row["elapsed"]) if pd.notna(row["elapsed"])
                                                     else "—"))

series = protected_series(code, row["kind"]) if row["kind"] != "manual" else series_of(code, "manual")
value_col = {"manual": "manual", "count": "count", "rate": "rate"}[row["kind"]]
st.markdown("**" + _("Trend by quarter") + "**")
st.caption(_("Counts are cumulative since the baseline date; rates are per quarter.") if row["kind"] != "manual"
           else _("Values as recorded for each quarter."))
numbers = pd.to_numeric(series[value_col], errors="coerce") if not series.empty else pd.Series(dtype=float)
if numbers.notna().sum() == 0 or (row["kind"] == "count" and not (numbers.fillna(0) != 0).any()):
    ui.empty_notice(t, _("No value for this indicator yet."))
else:
    unit_titles = {"number": _("Value"), "percent": _("Percentage"), "days": _("Days"), "yes_no": _("Yes (1) / no (0)")}
    ctx.chart(charts.trend, series, value_col, {
        "period": _("Quarter"), "value": unit_titles.get(row["unit"], _("Value")), "sex": _("Sex"),
        "baseline": _("Baseline"), "target": _("Target"),
    }, sex_labels, float(row["baseline"]), float(row["target"]),
        quarter_labels={key: quarter_name(key) for key in series["quarter"].unique()})

if row["disaggregation"] == "sex":
    st.markdown("**" + _("By sex") + "**")
    st.caption(_("Latest value by sex; the total also counts people of another or unknown sex."))
    by_sex = matrix[matrix["code"] == code]
    ui.show_dataframe(pd.DataFrame({
        "sex": [sex_labels[s] for s in by_sex["sex"]],
        "value": [show_value(row["unit"], raw_value(r)) for _i, r in by_sex.iterrows()],
    }), columns={"sex": _("Sex"), "value": _("Latest value")})

if row["kind"] == "manual":
    st.markdown("**" + _("Values recorded") + "**")
    hist = ctx.query(q.value_history, code)
    if hist.empty:
        st.caption(_("No value recorded yet."))
    else:
        ui.show_dataframe(pd.DataFrame({
            "quarter": [quarter_name(q.quarter_label(d)) for d in hist["period_start"]],
            "sex": [sex_labels.get(s, s) for s in hist["sex"]],
            "value": [show_value(row["unit"], v) for v in hist["value"]],
            "note": [n or "" for n in hist["note"]],
            "recorded_by": hist["recorded_by"],
            "recorded_at": [t.date(pd.Timestamp(x).date()) for x in hist["recorded_at"]],
            "current": [_("Counts") if c else _("Replaced by a later entry") for c in hist["current"]],
        }), columns={"quarter": _("Quarter"), "sex": _("Sex"), "value": _("Value"), "note": _("Note"),
                     "recorded_by": _("Recorded by"), "recorded_at": _("Recorded on"), "current": _("Use")})

# ---------------------------------------------------------------- the update form
if ctx.viewer.role in updates.VALUE_ROLES:
    manual = ctx.query(q.manual_indicators, ctx.lang)
    manual = manual[manual["project"] == project]
    if not manual.empty:
        manual_labels = dict(zip(manual["code"], manual["label"]))
        first = min(manual["baseline_on"])
        quarter_keys = [key for key, _s, _e in q.quarters(first, f.today)][::-1]
        previous = q.quarter_label(q.quarter_start(f.today) - timedelta(days=1))

        def _format(value):
            if isinstance(value, date):
                return t.date(value)
            if isinstance(value, float):
                return t.number(value, 0 if value.is_integer() else 2)
            return value

        def _submit() -> None:
            ss = st.session_state
            key = ss["ind_form_quarter"]
            year, quarter = key.split("-Q")
            start = date(int(year), 3 * int(quarter) - 2, 1)
            try:
                with ui.engine().begin() as conn:
                    problems = updates.record_indicator_value(
                        conn, ctx.viewer, ss["ind_form_indicator"], start, q.quarter_end(start), ss["ind_form_value"],
                        ss["ind_form_female"], ss["ind_form_male"], ss["ind_form_note"], today=f.today)
            except sa.exc.OperationalError as exc:
                ss["ind_form_result"] = ("error", str(exc.orig or exc))
                return
            if problems:
                ss["ind_form_result"] = ("problems", problems)
                return
            ui.clear_caches()
            ss["ind_form_result"] = ("ok", ss["ind_form_indicator"], key)
            for name in ("ind_form_value", "ind_form_female", "ind_form_male"):
                ss[name] = None
            ss["ind_form_note"] = ""

        result = st.session_state.pop("ind_form_result", None)
        with st.expander(_("Record an indicator value"), expanded=result is not None, icon=":material/edit_note:"):
            if result and result[0] == "ok":
                st.success(_("Value recorded for {code}, {quarter}.").format(code=result[1], quarter=quarter_name(result[2])))
            elif result and result[0] == "problems":
                for problem in result[1]:
                    st.error(_(problem.msgid).format(**{k_: _format(v) for k_, v in problem.params.items()}))
            elif result:
                st.error(_("The value could not be saved: {detail}").format(detail=result[1]))
            st.caption(_("Only indicators recorded by hand. A value for a quarter already recorded is kept as a "
                         "correction: the latest entry counts, earlier ones stay in the history."))
            with st.form("ind_value_form"):
                codes = list(manual_labels)
                st.selectbox(_("Indicator"), codes, format_func=lambda c: f"{c} — {manual_labels[c]}",
                             index=codes.index(code) if code in codes else 0, key="ind_form_indicator")
                a, b = st.columns(2)
                a.selectbox(_("Quarter"), quarter_keys, format_func=quarter_name,
                            index=quarter_keys.index(previous) if previous in quarter_keys else 0, key="ind_form_quarter")
                b.number_input(_("Value (total)"), value=None, step=1.0, key="ind_form_value",
                               help=_("Percentages 0 to 100; yes/no as 1 or 0; counts 0 or more. For an indicator by "
                                      "sex, leave empty to use the sum of the female and male values."))
                c, d = st.columns(2)
                c.number_input(_("Female (indicators by sex only)"), value=None, step=1.0, key="ind_form_female")
                d.number_input(_("Male (indicators by sex only)"), value=None, step=1.0, key="ind_form_male")
                st.text_area(_("Note"), key="ind_form_note", max_chars=updates.MAX_NOTE,
                             help=_("Source of the figure, or why it corrects an earlier one."))
                st.form_submit_button(_("Record the value"), on_click=_submit, type="primary")
