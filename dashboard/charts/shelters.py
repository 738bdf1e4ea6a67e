"""Charts of the shelters page (pure: aggregated DataFrames and translated titles in, Altair out).

Hidden counts ("< k", "*") never reach a chart: every function drops non-numeric values of
the measure it draws (``numeric_only``). Text shown in tooltips arrives pre-formatted by the
page (``*_text`` columns), so numbers follow the session's language.
"""
from __future__ import annotations

import altair as alt
import pandas as pd

from dashboard.charts import HEIGHT, PALETTE, RAG, numeric_only

BLUE = PALETTE[0]
LEGEND = {"orient": "bottom", "columns": 2, "labelLimit": 420, "titleLimit": 420}


def occupancy_bars(df: pd.DataFrame, full_pct: int, shelter_title: str, occupancy_title: str,
                   threshold_title: str, flagged_title: str, normal_title: str) -> alt.LayerChart:
    """Horizontal bars: occupancy today (``occupancy``, a fraction) per ``shelter``; bars at or
    above ``full_pct`` % in red; a dashed rule at the threshold. Needs ``full`` (bool),
    ``label_text`` (drawn after the bar, e.g. "12 / 20") and ``tooltip_text`` columns."""
    data = numeric_only(df, "occupancy")
    data["state"] = [flagged_title if f else normal_title for f in data["full"]]
    top = max(1.0, float(data["occupancy"].max()) if not data.empty else 1.0)
    x_scale = alt.Scale(domain=[0, top * 1.15])
    base = alt.Chart(data)
    bars = base.mark_bar().encode(
        y=alt.Y("shelter:N", title=None, sort=None, axis=alt.Axis(labelLimit=420)),
        x=alt.X("occupancy:Q", title=occupancy_title, scale=x_scale, axis=alt.Axis(format="%")),
        color=alt.Color("state:N", title=None, scale=alt.Scale(domain=[normal_title, flagged_title], range=[BLUE, RAG["red"]]),
                        legend=alt.Legend(orient="bottom", labelLimit=420)),
        tooltip=[alt.Tooltip("shelter:N", title=shelter_title), alt.Tooltip("tooltip_text:N", title=occupancy_title)],
    )
    labels = base.mark_text(align="left", dx=4, color="#333").encode(
        y=alt.Y("shelter:N", sort=None), x=alt.X("occupancy:Q", scale=x_scale), text="label_text:N")
    rule = alt.Chart(pd.DataFrame({"x": [full_pct / 100], "label": [threshold_title]})).mark_rule(
        strokeDash=[5, 4], color=RAG["red"], size=2).encode(x=alt.X("x:Q", scale=x_scale),
                                                             tooltip=alt.Tooltip("label:N", title=threshold_title))
    return alt.layer(bars, labels, rule).properties(height=alt.Step(36))


def utilisation_lines(df: pd.DataFrame, x_title: str, y_title: str, series_title: str, full_title: str,
                      height: int = HEIGHT + 40) -> alt.LayerChart:
    """Lines of bed utilisation (``utilisation``, a fraction) over ``period`` (timestamps), one
    per ``series`` (shelter or region name); a dashed rule at 100 % (every bed used).
    ``utilisation_text`` is the tooltip."""
    data = numeric_only(df, "utilisation")
    top = max(1.0, float(data["utilisation"].max()) if not data.empty else 1.0)
    lines = alt.Chart(data, height=height).mark_line(point=True).encode(
        x=alt.X("period:T", title=x_title),
        y=alt.Y("utilisation:Q", title=y_title, scale=alt.Scale(domain=[0, top * 1.05]), axis=alt.Axis(format="%")),
        color=alt.Color("series:N", title=series_title, scale=alt.Scale(range=PALETTE), legend=alt.Legend(**LEGEND)),
        tooltip=[alt.Tooltip("series:N", title=series_title), alt.Tooltip("period_text:N", title=x_title),
                 alt.Tooltip("utilisation_text:N", title=y_title)],
    )
    rule = alt.Chart(pd.DataFrame({"y": [1.0], "label": [full_title]})).mark_rule(
        strokeDash=[5, 4], color=RAG["red"]).encode(y="y:Q", tooltip=alt.Tooltip("label:N", title=full_title))
    return alt.layer(lines, rule)


def _hidden(df: pd.DataFrame, column: str) -> pd.DataFrame:
    """Rows whose ``column`` is hidden by privacy ("< k", "*"), with the marker in ``marker``."""
    out = df[[isinstance(v, str) for v in df[column]]].copy()
    out["marker"] = out[column]
    return out


def entries_exits_bars(df: pd.DataFrame, x_title: str, y_title: str, kind_title: str,
                       kinds: list[str]) -> alt.LayerChart:
    """Grouped bars per month (``month_text`` labels, in the frame's order): ``count`` of each
    ``kind`` (translated labels, in the order of ``kinds``); a hidden count is written at the
    foot of its place instead of a bar, never drawn as zero."""
    data = numeric_only(df, "count")
    order = list(dict.fromkeys(df["month_text"]))
    x = alt.X("month_text:N", title=x_title, sort=order, axis=alt.Axis(labelAngle=-40, labelLimit=120))
    offset = alt.XOffset("kind:N", sort=kinds, scale=alt.Scale(domain=kinds))
    bars = alt.Chart(data).mark_bar().encode(
        x=x, xOffset=offset,
        y=alt.Y("count:Q", title=y_title, axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("kind:N", title=kind_title, sort=kinds, scale=alt.Scale(domain=kinds, range=[BLUE, PALETTE[1]]),
                        legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("month_text:N", title=x_title), alt.Tooltip("kind:N", title=kind_title),
                 alt.Tooltip("count:Q", title=y_title)],
    )
    marks = alt.Chart(_hidden(df, "count")).mark_text(angle=270, align="left", dx=4, fontSize=10, color="#555").encode(
        x=x, xOffset=offset, y=alt.datum(0), text="marker:N",
        tooltip=[alt.Tooltip("month_text:N", title=x_title), alt.Tooltip("kind:N", title=kind_title),
                 alt.Tooltip("marker:N", title=y_title)],
    )
    return alt.layer(bars, marks).properties(height=HEIGHT)


def horizontal_bars(df: pd.DataFrame, label: str, value: str, label_title: str, value_title: str,
                    tooltip_text: str | None = None, integer: bool = True, color: str = BLUE) -> alt.Chart:
    """One horizontal bar per row (in the frame's order)."""
    data = numeric_only(df, value)
    tooltip = [alt.Tooltip(f"{label}:N", title=label_title),
               alt.Tooltip(f"{tooltip_text or value}:{'N' if tooltip_text else 'Q'}", title=value_title)]
    axis = alt.Axis(tickMinStep=1, format="d") if integer else alt.Axis()
    return alt.Chart(data, height=max(120, 34 * max(1, len(data)))).mark_bar(color=color).encode(
        y=alt.Y(f"{label}:N", title=label_title, sort=None, axis=alt.Axis(labelLimit=380)),
        x=alt.X(f"{value}:Q", title=value_title, axis=axis),
        tooltip=tooltip,
    )


def declined_bars(df: pd.DataFrame, x_title: str, y_title: str) -> alt.LayerChart:
    """Referrals declined for lack of space per month (``month_text`` labels, ``declined``); a
    hidden count is written at the foot of its month instead of a bar."""
    data = numeric_only(df, "declined")
    order = list(dict.fromkeys(df["month_text"]))
    x = alt.X("month_text:N", title=x_title, sort=order, axis=alt.Axis(labelAngle=-40, labelLimit=120))
    bars = alt.Chart(data).mark_bar(color=RAG["red"]).encode(
        x=x, y=alt.Y("declined:Q", title=y_title, axis=alt.Axis(tickMinStep=1, format="d")),
        tooltip=[alt.Tooltip("month_text:N", title=x_title), alt.Tooltip("declined:Q", title=y_title)],
    )
    marks = alt.Chart(_hidden(df, "declined")).mark_text(dy=-8, fontSize=11, color="#555").encode(
        x=x, y=alt.datum(0), text="marker:N",
        tooltip=[alt.Tooltip("month_text:N", title=x_title), alt.Tooltip("marker:N", title=y_title)],
    )
    return alt.layer(bars, marks).properties(height=HEIGHT)


# d3 locales, so axes (numbers, percentages, month and day names) follow the session's language
_FR = alt.Locale(
    number=alt.NumberLocale(decimal=",", thousands="\u202f", grouping=[3], currency=["", "\u00a0€"], percent="\u202f%"),
    time=alt.TimeLocale(
        dateTime="%A %e %B %Y à %X", date="%d/%m/%Y", time="%H:%M:%S", periods=["AM", "PM"],
        days=["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
        shortDays=["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
        months=["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
                "novembre", "décembre"],
        shortMonths=["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."],
    ),
)
_EN = alt.Locale(number=alt.NumberLocale(decimal=".", thousands=",", grouping=[3], currency=["£", ""]))


def localized(chart, lang: str):
    """The chart with number and date formats of ``lang`` ('fr' or 'en'); call last."""
    return chart.configure(locale=_FR if lang == "fr" else _EN)


BUILDERS = ("occupancy_bars", "utilisation_lines", "entries_exits_bars", "horizontal_bars", "declined_bars")


def in_language(name: str, lang: str, *args, **kwargs):
    """The chart of builder ``name`` of this module (one of ``BUILDERS``) with ``lang``'s number
    and date formats: the builder form ``ctx.chart(in_language, name, lang, ...)`` takes, so
    that each spec is built once per input and language and cached."""
    if name not in BUILDERS:
        raise ValueError(f"unknown shelters chart {name!r}")
    return localized(globals()[name](*args, **kwargs), lang)


def drawable(df: pd.DataFrame, column: str) -> bool:
    """Whether any value of ``column`` survives privacy (something to draw)."""
    return not numeric_only(df, column).empty


def positive(df: pd.DataFrame, column: str) -> bool:
    """Whether ``column`` has a value above zero that survives privacy."""
    return bool((pd.to_numeric(df[column], errors="coerce") > 0).any())
