"""Altair charts: each function takes an aggregated DataFrame and labels, returns a chart.

Charts know nothing of databases or sessions. Topic modules (``charts.flow``,
``charts.shelters``, ...) build on the helpers here. Hidden counts ("< k") are dropped
from the chart data by :func:`numeric_only`, so a chart never reveals them.
"""
from __future__ import annotations

import altair as alt
import pandas as pd

PALETTE = ["#1f5f8b", "#e07b39", "#4c9a6a", "#b8474f", "#7a5195", "#c9a227", "#5b8db8", "#8c8c8c"]
RAG = {"red": "#c0392b", "amber": "#e6a117", "green": "#2e8b57", "grey": "#9e9e9e"}
HEIGHT = 260


def numeric_only(df: pd.DataFrame, column: str) -> pd.DataFrame:
    """Rows whose ``column`` is a number (hidden "< k" cells removed)."""
    out = df.copy()
    out[column] = pd.to_numeric(out[column], errors="coerce")
    return out[out[column].notna()]



def bar(df: pd.DataFrame, x: str, y: str, x_title: str, y_title: str, color: str | None = None,
        color_title: str | None = None, horizontal: bool = False, height: int = HEIGHT, sort=None, tooltip=None) -> alt.Chart:
    data = numeric_only(df, y)
    enc_x = alt.X(f"{x}:N", title=x_title, sort=sort, axis=alt.Axis(labelLimit=260))
    enc_y = alt.Y(f"{y}:Q", title=y_title)
    if horizontal:
        enc_x, enc_y = alt.X(f"{y}:Q", title=y_title), alt.Y(f"{x}:N", title=x_title, sort=sort, axis=alt.Axis(labelLimit=260))
    chart = alt.Chart(data, height=height).mark_bar()
    enc = {"x": enc_x, "y": enc_y, "tooltip": tooltip or [alt.Tooltip(x, title=x_title), alt.Tooltip(y, title=y_title)]}
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=color_title, scale=alt.Scale(range=PALETTE))
    return chart.encode(**enc)


def line(df: pd.DataFrame, x: str, y: str, x_title: str, y_title: str, color: str | None = None,
         color_title: str | None = None, height: int = HEIGHT, temporal: bool = True) -> alt.Chart:
    data = numeric_only(df, y)
    enc = {
        "x": alt.X(f"{x}:{'T' if temporal else 'O'}", title=x_title),
        "y": alt.Y(f"{y}:Q", title=y_title),
        "tooltip": [alt.Tooltip(x, title=x_title), alt.Tooltip(y, title=y_title)],
    }
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=color_title, scale=alt.Scale(range=PALETTE))
        enc["tooltip"].append(alt.Tooltip(color, title=color_title))
    return alt.Chart(data, height=height).mark_line(point=True).encode(**enc)


def month_dates(df: pd.DataFrame, column: str = "month") -> pd.DataFrame:
    """'YYYY-MM' strings → first-of-month timestamps, for temporal axes."""
    out = df.copy()
    out[column] = pd.to_datetime(out[column] + "-01")
    return out


MONTHS = {
    "fr": ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."],
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}


def localize(chart, lang: str):
    """Axis labels in the session's language: month names on time axes and, in French,
    spaces between thousands and a decimal comma on number axes (Vega formats in English)."""
    months = "[" + ",".join(f"'{m}'" for m in MONTHS.get(lang, MONTHS["en"])) + "]"
    temporal = (
        f"timeFormat(datum.value, '%m-%d') == '01-01' ? {months}[month(datum.value)] + ' ' + year(datum.value)"
        f" : (date(datum.value) == 1 ? {months}[month(datum.value)] : timeFormat(datum.value, '%d/%m'))"
    )
    config = {"axisTemporal": {"labelExpr": temporal}}
    if lang == "fr":
        config["axisQuantitative"] = {
            "labelExpr": "replace(replace(replace(format(datum.value, ',~r'), regexp(',', 'g'), '\u202f'), '.', ','), '\u202f', '\u202f')"
        }
    existing = {} if chart.config is alt.Undefined else chart.config.to_dict()
    if "locale" in existing:  # the chart formats numbers with a Vega locale of its own (shelters)
        config.pop("axisQuantitative", None)
    try:
        return chart.configure(**{**config, **existing})  # the chart's own settings win
    except Exception:  # noqa: BLE001 - a chart that cannot be configured keeps its own settings
        return chart
