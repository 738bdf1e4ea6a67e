"""Charts of the action plan page (pure: DataFrames and translated labels in, Altair out).

Streamlit fits the whole chart (axes and legend included) into the height given, so heights
here leave room for a bottom legend and the x axis (``FRAME``).

Codes (pillar, state, status) arrive as codes; the page passes ``labels`` dicts mapping
each code to its translated label, so legends and axes are in the session's language.
"""
from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd

from dashboard.charts import HEIGHT, RAG, numeric_only

STATE_COLOURS = {
    "completed": RAG["green"],
    "on_track": "#1f5f8b",
    "delayed": RAG["red"],
    "not_started": RAG["grey"],
    "cancelled": "#5d5d5d",
}
STATUS_COLOURS = {
    "not_started": RAG["grey"],
    "in_progress": "#1f5f8b",
    "delayed": RAG["amber"],
    "completed": RAG["green"],
    "cancelled": "#5d5d5d",
}
BUDGET_COLOURS = ["#9ecae1", "#1f5f8b"]
FRAME = 130  # px for the x axis and a two-row bottom legend


def _labelled(df: pd.DataFrame, column: str, labels: dict, target: str) -> pd.DataFrame:
    out = df.copy()
    out[target] = [labels.get(v, v) for v in out[column]]
    return out


def _scale(codes, labels: dict, colours: dict) -> alt.Scale:
    return alt.Scale(domain=[labels[c] for c in codes], range=[colours[c] for c in codes])


def state_bars(df: pd.DataFrame, key: str, key_title: str, count_title: str, state_title: str,
               state_labels: dict, key_labels: dict | None = None, key_order: list | None = None,
               height: int | None = None) -> alt.Chart:
    """Horizontal stacked bars: one bar per ``key`` value, segments by state (codes in ``state``)."""
    data = numeric_only(_labelled(df, "state", state_labels, "state_label"), "activities")
    data["key_label"] = [key_labels.get(v, v) for v in data[key]] if key_labels else data[key]
    data["state_order"] = [list(state_labels).index(s) if s in state_labels else 99 for s in data["state"]]
    order = [key_labels.get(k, k) for k in key_order] if key_order and key_labels else key_order
    rows = max(1, data["key_label"].nunique())
    return alt.Chart(data, height=height or FRAME + 34 * rows).mark_bar().encode(
        y=alt.Y("key_label:N", title=key_title if key_labels else None, sort=order or "-x",
                axis=alt.Axis(labelLimit=360)),
        x=alt.X("sum(activities):Q", title=count_title, axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("state_label:N", title=state_title, scale=_scale(list(state_labels), state_labels, STATE_COLOURS),
                        legend=alt.Legend(orient="bottom", columns=3, labelLimit=300)),
        order=alt.Order("state_order:Q"),
        tooltip=[alt.Tooltip("key_label:N", title=key_title), alt.Tooltip("state_label:N", title=state_title),
                 alt.Tooltip("activities:Q", title=count_title)],
    )


def timeline(df: pd.DataFrame, today: date, titles: dict, state_labels: dict, pillar_labels: dict) -> alt.Chart:
    """Gantt: one bar per activity from planned start to planned end, coloured by state, with
    today marked. ``titles``: activity, start, end, state, pillar, lead, title, today."""
    data = _labelled(_labelled(df, "state", state_labels, "state_label"), "pillar", pillar_labels, "pillar_label")
    data["planned_start"] = pd.to_datetime(data["planned_start"])
    data["planned_end"] = pd.to_datetime(data["planned_end"])
    order = data.sort_values(["planned_start", "code"])["code"].tolist()
    height = FRAME + 24 * len(data)
    y = alt.Y("code:N", title=titles["activity"], sort=order, axis=alt.Axis(labelLimit=200))
    bars = alt.Chart(data).mark_bar(cornerRadius=2, height=15).encode(
        y=y,
        x=alt.X("planned_start:T", title=titles["dates"], axis=alt.Axis(format="%Y", tickCount="year", grid=True)),
        x2="planned_end:T",
        color=alt.Color("state_label:N", title=titles["state"],
                        scale=_scale(list(state_labels), state_labels, STATE_COLOURS),
                        legend=alt.Legend(orient="bottom", columns=3, labelLimit=300)),
        tooltip=[alt.Tooltip("code:N", title=titles["activity"]), alt.Tooltip("title:N", title=titles["title"]),
                 alt.Tooltip("pillar_label:N", title=titles["pillar"]), alt.Tooltip("lead:N", title=titles["lead"]),
                 alt.Tooltip("planned_start:T", title=titles["start"], format="%d/%m/%Y"),
                 alt.Tooltip("planned_end:T", title=titles["end"], format="%d/%m/%Y"),
                 alt.Tooltip("state_label:N", title=titles["state"])],
    )
    mark = pd.DataFrame({"today": [pd.Timestamp(today)], "label": [titles["today"]]})
    rule = alt.Chart(mark).mark_rule(color="#333333", strokeDash=[4, 3], strokeWidth=1.5).encode(x="today:T")
    text = alt.Chart(mark).mark_text(align="left", dx=4, dy=-6, color="#333333", fontWeight="bold").encode(
        x="today:T", y=alt.value(0), text="label:N")
    return alt.layer(bars, rule, text).properties(height=height)


def budget(df: pd.DataFrame, pillar_title: str, amount_title: str, measure_title: str, pillar_labels: dict,
           planned_label: str, spent_label: str) -> alt.Chart:
    """Budget planned against spent per pillar: grouped bars, in millions (``amount_title``
    should say so); the tooltip gives the exact amount."""
    rows = []
    for rec in df.to_dict("records"):
        label = pillar_labels.get(rec["pillar"], rec["pillar"])
        rows.append({"pillar_label": label, "measure": planned_label, "amount": rec["planned"], "i": 0})
        rows.append({"pillar_label": label, "measure": spent_label, "amount": rec["spent"], "i": 1})
    data = pd.DataFrame(rows)
    order = [pillar_labels[p] for p in pillar_labels if p in set(df["pillar"])]
    data["amount_m"] = data["amount"] / 1e6
    return alt.Chart(data, height=HEIGHT + FRAME).mark_bar().encode(
        x=alt.X("pillar_label:N", title=pillar_title, sort=order, axis=alt.Axis(labelAngle=0, labelLimit=200)),
        xOffset=alt.XOffset("measure:N", sort=[planned_label, spent_label]),
        y=alt.Y("amount_m:Q", title=amount_title, axis=alt.Axis(format=",.0f")),
        color=alt.Color("measure:N", title=measure_title, sort=[planned_label, spent_label],
                        scale=alt.Scale(domain=[planned_label, spent_label], range=BUDGET_COLOURS),
                        legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("pillar_label:N", title=pillar_title), alt.Tooltip("measure:N", title=measure_title),
                 alt.Tooltip("amount:Q", title=amount_title, format=",.0f")],
    )


def status_over_time(df: pd.DataFrame, month_title: str, count_title: str, status_title: str,
                     status_labels: dict) -> alt.Chart:
    """Stacked bars: activities in each recorded status at the end of each month."""
    data = numeric_only(_labelled(df, "status", status_labels, "status_label"), "activities")
    data["month"] = pd.to_datetime(data["month"] + "-01")
    data["status_order"] = [list(status_labels).index(s) if s in status_labels else 99 for s in data["status"]]
    return alt.Chart(data, height=HEIGHT + FRAME).mark_bar().encode(
        x=alt.X("yearmonth(month):O", title=month_title, axis=alt.Axis(format="%m/%Y", labelAngle=-45)),
        y=alt.Y("sum(activities):Q", title=count_title, axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("status_label:N", title=status_title,
                        scale=_scale(list(status_labels), status_labels, STATUS_COLOURS),
                        legend=alt.Legend(orient="bottom", columns=5, labelLimit=300)),
        order=alt.Order("status_order:Q"),
        tooltip=[alt.Tooltip("yearmonth(month):O", title=month_title, format="%m/%Y"),
                 alt.Tooltip("status_label:N", title=status_title), alt.Tooltip("activities:Q", title=count_title)],
    )
