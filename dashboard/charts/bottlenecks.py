"""Charts of the bottlenecks page: days to decide per receiving organisation (median bar,
90th-percentile tick), declines by reason, overdue referrals by age, time in stage with its
backlog. Pure functions of (already translated and protected) DataFrames."""
from __future__ import annotations

import json

import altair as alt
import pandas as pd

MEDIAN_COLOUR, P90_COLOUR = "#1f5f8b", "#b8474f"
AGE_COLOURS = ["#fdd49e", "#fdbb84", "#fc8d59", "#e34a33", "#b30000"]
REASON_COLOURS = ["#e07b39", "#7a5195", "#5b8db8", "#8c8c8c"]


def _numbers(df: pd.DataFrame, *cols: str) -> pd.DataFrame:
    out = df.copy()
    for col in cols:
        out[col] = pd.to_numeric(out[col], errors="coerce")
    return out


def _per_key(data: pd.DataFrame, key: str, cols: list[str]) -> tuple[pd.DataFrame, alt.LookupData | None]:
    """Move the columns of ``cols`` that hold one value per ``key`` (an organisation's name
    repeated on each of its bars) into a lookup table sent once per key; Vega-Lite joins
    them back (``transform_lookup``). Returns the slimmer data and the lookup (or None)."""
    fields = [c for c in cols if c != key and data.groupby(key, observed=True)[c].nunique(dropna=False).le(1).all()]
    if not fields or len(data) <= data[key].nunique():
        return data, None
    table = data[[key, *fields]].drop_duplicates(key).reset_index(drop=True)
    return data.drop(columns=fields), alt.LookupData(table, key=key, fields=fields)


def _row_height(n: int) -> int:
    return 30 * max(n, 1) + 110


def median_p90(df: pd.DataFrame, y: str, y_title: str, x_title: str, median_title: str, p90_title: str,
               tooltip_titles: dict[str, str], order: list[str] | None = None) -> alt.LayerChart:
    """Horizontal: a bar for the median and a tick for the 90th percentile per ``y``.
    ``df``: y, median, p90 (numbers; withheld values NaN are dropped) and the tooltip columns
    ({column: title})."""
    data = _numbers(df[list(dict.fromkeys([y, "median", "p90", *tooltip_titles]))], "median", "p90")
    data = data[data["median"].notna()].reset_index(drop=True)
    tooltip = [alt.Tooltip(f"{c}:N", title=t) for c, t in tooltip_titles.items()]
    enc_y = alt.Y(f"{y}:N", title=y_title, sort=order or "-x", axis=alt.Axis(labelLimit=340))
    base = alt.Chart(data, height=_row_height(len(data)))
    bars = base.mark_bar(color=MEDIAN_COLOUR, height={"band": 0.7}).encode(
        x=alt.X("median:Q", title=x_title), y=enc_y, tooltip=tooltip)
    ticks = base.mark_tick(color=P90_COLOUR, thickness=3, size=18).encode(x="p90:Q", y=enc_y, tooltip=tooltip)
    # two legend entries: inline values (an Arrow dataset would cost more than its content)
    legend = alt.Data(values=[{"what": median_title}, {"what": p90_title}])
    key = alt.Chart(legend).mark_point(size=0, opacity=0).encode(
        color=alt.Color("what:N", title=None, scale=alt.Scale(domain=[median_title, p90_title],
                                                              range=[MEDIAN_COLOUR, P90_COLOUR]),
                        legend=alt.Legend(orient="bottom", symbolType="square", symbolOpacity=1)))
    return alt.layer(bars, ticks, key)


def stacked(df: pd.DataFrame, y: str, y_title: str, value: str, x_title: str, colour: str, colour_title: str,
            colours: list[str], categories: list[str], tooltip_titles: dict[str, str],
            order: list[str] | None = None) -> alt.Chart:
    """Horizontal stacked bars: ``value`` per ``y`` split by ``colour`` (in ``categories``
    order). Hidden "< k" cells are dropped."""
    data = _numbers(df[list(dict.fromkeys([y, value, colour, *tooltip_titles]))], value)
    data = data[data[value].notna() & (data[value] > 0)].reset_index(drop=True)
    tooltip = [alt.Tooltip(f"{c}:N", title=t) for c, t in tooltip_titles.items()]
    n = data[y].nunique()
    data, lookup = _per_key(data, y, [c for c in tooltip_titles if c not in (y, value, colour)])
    for col in (y, colour):  # a few values repeated on every bar: sent once each (Arrow dictionary)
        data[col] = data[col].astype("category")
    chart = alt.Chart(data, height=_row_height(n))
    if lookup is not None:
        chart = chart.transform_lookup(lookup=y, from_=lookup)
    return chart.mark_bar().encode(
        x=alt.X(f"sum({value}):Q", title=x_title, axis=alt.Axis(tickMinStep=1)),
        y=alt.Y(f"{y}:N", title=y_title, sort=order or "-x", axis=alt.Axis(labelLimit=200)),
        color=alt.Color(f"{colour}:N", title=colour_title, sort=categories,
                        scale=alt.Scale(domain=categories, range=colours[: len(categories)]),
                        legend=alt.Legend(orient="bottom", labelLimit=240)),
        order=alt.Order("colour_rank:Q"),
        tooltip=tooltip,
    ).transform_calculate(
        colour_rank=f"indexof({json.dumps(categories)}, datum[{json.dumps(colour)}])"
    )


def backlog(df: pd.DataFrame, y_title: str, x_title: str, order: list[str], tooltip_titles: dict[str, str]) -> alt.Chart:
    """Horizontal bars: cases now in each stage (``label``, ``backlog`` numbers; hidden cells
    dropped), with the median age in the tooltip."""
    data = _numbers(df[list(dict.fromkeys(["label", "backlog", *tooltip_titles]))], "backlog")
    data = data[data["backlog"].notna()]
    tooltip = [alt.Tooltip(f"{c}:N", title=t) for c, t in tooltip_titles.items()]
    return alt.Chart(data, height=_row_height(len(order))).mark_bar(color="#e07b39", height={"band": 0.7}).encode(
        x=alt.X("backlog:Q", title=x_title, axis=alt.Axis(tickMinStep=1)),
        y=alt.Y("label:N", title=y_title, sort=order, scale=alt.Scale(domain=order), axis=alt.Axis(labelLimit=340)),
        tooltip=tooltip,
    )
