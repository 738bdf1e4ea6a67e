"""The timeline of one case: dates across, the kind of item down (referral chain, justice,
referrals, services, shelter stays). Intervals (a referral from sending to decision, a
service, a stay) are bars; single events (stage entries, justice steps) are points; items
still open run to today, drawn lighter. Pure: a prepared DataFrame in, an Altair chart out.
"""
from __future__ import annotations

import altair as alt
import pandas as pd

from dashboard.charts import PALETTE

ROW_HEIGHT = 40
AXIS_HEIGHT = 70  # the date axis and its title (Streamlit fits the whole chart into the height)


def timeline(df: pd.DataFrame, tracks: list[str], date_title: str, track_title: str,
             tooltip: list[tuple[str, str]]) -> alt.Chart:
    """``df`` has one row per item with: track (translated kind, one of ``tracks``, drawn in
    that order top to bottom), start (datetime), end (datetime; equal to start for single
    events, today for open items), is_event (bool), is_open (bool), and the tooltip columns
    named in ``tooltip`` as (column, translated title) pairs."""
    data = df.copy()
    data["start"] = pd.to_datetime(data["start"])
    data["end"] = pd.to_datetime(data["end"])
    shown = [t for t in tracks if t in set(data["track"])]
    y = alt.Y("track:N", title=track_title, sort=shown, axis=alt.Axis(labelLimit=220))
    color = alt.Color("track:N", sort=shown, scale=alt.Scale(domain=shown, range=PALETTE[: len(shown)]), legend=None)
    tips = [alt.Tooltip(col, title=title) for col, title in tooltip]
    # ticks a day apart at least; a little room at both ends so that first and last marks are whole
    x = alt.X("start:T", title=date_title, scale=alt.Scale(padding=14),
              axis=alt.Axis(labelOverlap=True, grid=True, tickMinStep=86_400_000))
    base = alt.Chart(data)
    spans = base.transform_filter("!datum.is_event").mark_bar(height=16, cornerRadius=3, stroke="white", strokeWidth=1.5).encode(
        x=x, x2="end:T", y=y, color=color,
        opacity=alt.condition("datum.is_open", alt.value(0.45), alt.value(0.95)), tooltip=tips,
    )
    # a thin mark at the start of each span keeps one-day items visible
    starts = base.transform_filter("!datum.is_event").mark_tick(thickness=2, size=20).encode(
        x=x, y=y, color=color, tooltip=tips,
    )
    events = base.transform_filter("datum.is_event").mark_point(size=120, filled=True, opacity=1).encode(
        x=x, y=y, color=color, shape=alt.value("diamond"), tooltip=tips,
    )
    return alt.layer(spans, starts, events).properties(height=ROW_HEIGHT * max(len(shown), 2) + AXIS_HEIGHT)
