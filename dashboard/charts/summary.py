"""Charts of the summary page and of the meeting pack's summary (pure functions of small frames).

On screen the headline figures carry Streamlit's own metric sparklines; on paper they are
drawn here, as a grid of small monthly trend lines (:func:`trend_grid`).
"""
from __future__ import annotations

import altair as alt
import pandas as pd

from dashboard.charts import PALETTE, numeric_only

PERCENT, DAYS, COUNT = "percent", "days", "count"


def sparkline_values(df: pd.DataFrame, column: str) -> list[float]:
    """The numbers of a protected monthly column, in month order (hidden or withheld months
    left out), for ``st.metric(chart_data=...)``."""
    if df.empty or column not in df.columns:
        return []
    data = numeric_only(df, column)
    if "month" in data.columns:
        data = data.sort_values("month")
    return [float(v) for v in data[column]]


def _small(df: pd.DataFrame, column: str, title: str, kind: str, color: str, width: int, height: int) -> alt.Chart:
    data = numeric_only(df, column)
    data = data.assign(month=pd.to_datetime(data["month"] + "-01"))
    fmt = {PERCENT: ".0%", COUNT: ",d"}.get(kind, ",~r")
    y = alt.Y(f"{column}:Q", title=None, axis=alt.Axis(format=fmt, tickCount=3, tickMinStep=1 if kind != PERCENT else alt.Undefined,
                                                       labelFontSize=9))
    x = alt.X("month:T", title=None, axis=alt.Axis(format="%b", tickCount="month", labelFontSize=8, labelAngle=0,
                                                   labelOverlap=True))
    return (
        alt.Chart(data, width=width, height=height, title=alt.Title(title, fontSize=11, anchor="start"))
        .mark_line(point=alt.OverlayMarkDef(size=18), color=color)
        .encode(x=x, y=y)
    )


def trend_grid(panels: list[dict], columns: int = 3, width: int = 170, height: int = 70) -> alt.VConcatChart:
    """Small monthly trend lines, ``columns`` per row. Each panel: {"df": frame with ``month``
    (YYYY-MM) and the value column, "column", "title", "kind" (count | percent | days)}.
    Leave out the panels with nothing to draw (see :func:`sparkline_values`): one would draw
    an empty frame with its title."""
    charts = []
    for i, p in enumerate(panels):
        df = p["df"]
        if df.empty or p["column"] not in df.columns:
            df = pd.DataFrame({"month": pd.Series(dtype=str), p["column"]: pd.Series(dtype=float)})
        charts.append(_small(df, p["column"], p["title"], p.get("kind", COUNT), PALETTE[i % len(PALETTE)], width, height))
    rows = [alt.hconcat(*charts[i:i + columns], spacing=28) for i in range(0, len(charts), columns)]
    return alt.vconcat(*rows, spacing=18).configure_view(stroke=None)

