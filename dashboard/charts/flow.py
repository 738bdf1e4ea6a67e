"""Charts of the case flow page: funnel, organisation × organisation matrix, monthly
identifications, justice track. Pure functions of (already translated and protected)
DataFrames; the funnel and the matrix carry a named point selection so that a click can
filter the rest of the page (``st.altair_chart(..., on_select="rerun")``, read back with
:func:`selected`).
"""
from __future__ import annotations

import math

import altair as alt
import pandas as pd

from dashboard.charts import HEIGHT, PALETTE

STAGE_SELECTION = "stage"
PAIR_SELECTION = "pair"
PAIR_FIELDS = ["from_code", "to_code"]
FUNNEL_COLOURS = {"progress": "#1f5f8b", "closed": "#8c8c8c"}


def selected(event, name: str, fields: list[str]) -> tuple | None:
    """The values of ``fields`` of the first point picked in selection ``name`` of a chart
    event returned by ``st.altair_chart(..., on_select="rerun")``; None when nothing is."""
    if not event:
        return None
    try:
        points = event["selection"][name]
    except (KeyError, TypeError):
        return None
    if not points:
        return None
    point = points[0]
    try:
        values = tuple(point[f] for f in fields)
    except (KeyError, TypeError):
        return None
    return values if all(v is not None for v in values) else None


def _number_or_nan(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce")


def funnel(df: pd.DataFrame, x_title: str, tooltip_titles: dict[str, str]) -> alt.LayerChart:
    """Horizontal funnel. ``df``: stage, label (translated), reached (number or "< k"),
    text (shown at the bar's end), kind (progress | closed) and the tooltip columns named
    in ``tooltip_titles`` ({column: title}). Clicking a bar selects its ``stage``."""
    data = df[list(dict.fromkeys(["stage", "label", "text", "kind", *tooltip_titles]))].copy()
    data["bar"] = _number_or_nan(df["reached"]).fillna(0)
    order = data["label"].tolist()
    sel = alt.selection_point(name=STAGE_SELECTION, fields=["stage"], on="click", clear="dblclick")
    tooltip = [alt.Tooltip(f"{col}:N", title=title) for col, title in tooltip_titles.items()]
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=320, labelFontSize=12))
    base = alt.Chart(data, height=48 * len(data) + 70)
    bars = base.mark_bar(cornerRadiusEnd=3, cursor="pointer").encode(
        x=alt.X("bar:Q", title=x_title, scale=alt.Scale(domainMin=0, nice=True), axis=alt.Axis(tickMinStep=1)),
        y=y,
        color=alt.Color("kind:N", scale=alt.Scale(domain=list(FUNNEL_COLOURS), range=list(FUNNEL_COLOURS.values())),
                        legend=None),
        opacity=alt.condition(sel, alt.value(1.0), alt.value(0.35)),
        tooltip=tooltip,
    )
    text = base.mark_text(align="left", dx=5, fontSize=12).encode(
        x="bar:Q", y=y, text="text:N", tooltip=tooltip)
    return alt.layer(bars.add_params(sel), text).properties(padding={"right": 120})


def _chain_order(df: pd.DataFrame) -> list[str]:
    pairs = pd.concat([
        df[["from_code", "from_order"]].set_axis(["code", "order"], axis=1),
        df[["to_code", "to_order"]].set_axis(["code", "order"], axis=1),
    ]).drop_duplicates("code")
    return pairs.sort_values(["order", "code"])["code"].tolist()


def _side_lookup(df: pd.DataFrame, side: str, cols: list[str]) -> alt.LookupData | None:
    """A lookup table of the ``{side}_*`` columns of ``cols`` (one row per organisation
    ``{side}_code``), so that the labels travel once per organisation instead of once per cell."""
    fields = [c for c in cols if c.startswith(f"{side}_") and c != f"{side}_code"]
    if not fields:
        return None
    key = f"{side}_code"
    table = df[[key, *fields]].drop_duplicates(key).reset_index(drop=True)
    return alt.LookupData(table, key=key, fields=fields)


def matrix(df: pd.DataFrame, sender_title: str, receiver_title: str, count_title: str,
           tooltip_titles: dict[str, str], cell: int = 26) -> alt.LayerChart:
    """Organisation × organisation heatmap: senders on rows, receivers on columns, both in
    chain order (``from_order`` / ``to_order``), short codes on the axes, the count in each
    cell (``text``; "< k" cells grey) and full names in the tooltip (``tooltip_titles``).
    ``df``: from_code, to_code, from_order, to_order, referrals (number or "< k"), text.
    Clicking a cell selects its (from_code, to_code).

    Tooltip columns named ``from_*`` / ``to_*`` describe the organisation (its name, its
    type): they are sent once per organisation, as lookup tables, not once per cell."""
    own = [c for c in dict.fromkeys(tooltip_titles) if not c.startswith(("from_", "to_"))]
    data = df[list(dict.fromkeys(["from_code", "to_code", "text", *own]))].reset_index(drop=True)
    for col in PAIR_FIELDS:  # a few codes repeated over every cell: sent once each (Arrow dictionary)
        data[col] = data[col].astype("category")
    value = _number_or_nan(df["referrals"]).reset_index(drop=True)
    data["hidden"] = value.isna()
    top = value.max() if value.notna().any() else 1
    # the colour scale is logarithmic: white text on the darker half of it
    data["dark"] = value.fillna(0) >= max(2.0, math.exp(0.55 * math.log(max(top, 1))))
    # hidden cells are drawn grey (a null would drop the cell); 1 keeps the log scale valid
    data["value"] = value.fillna(1).astype("int32")
    lookups = {side: _side_lookup(df, side, list(tooltip_titles)) for side in ("from", "to")}
    order = _chain_order(df)
    sel = alt.selection_point(name=PAIR_SELECTION, fields=PAIR_FIELDS, on="click", clear="dblclick")
    tooltip = [alt.Tooltip(f"{col}:N", title=title) for col, title in tooltip_titles.items()]
    size = alt.Step(cell)
    base = alt.Chart(data)
    for side, lookup in lookups.items():
        if lookup is not None:
            base = base.transform_lookup(lookup=f"{side}_code", from_=lookup)
    base = base.encode(
        x=alt.X("to_code:N", sort=order, scale=alt.Scale(domain=order), title=receiver_title,
                axis=alt.Axis(orient="top", labelAngle=-60, labelAlign="left", labelBaseline="middle",
                              labelOverlap=False, labelLimit=140, labelFontSize=11, ticks=False)),
        y=alt.Y("from_code:N", sort=order, scale=alt.Scale(domain=order), title=sender_title,
                axis=alt.Axis(labelOverlap=False, labelLimit=140, labelFontSize=11, ticks=False)),
        tooltip=tooltip,
    ).properties(width=size, height=size)
    rect = base.mark_rect(stroke="#ffffff", strokeWidth=1).encode(
        color=alt.condition(
            "datum.hidden",
            alt.value("#d9d9d9"),
            alt.Color("value:Q", title=count_title, scale=alt.Scale(type="log", scheme="blues"),
                      legend=alt.Legend(orient="bottom", gradientLength=240, format="~s")),
        ),
        opacity=alt.condition(sel, alt.value(1.0), alt.value(0.3)),
    )
    text = base.mark_text(fontSize=10).encode(
        text="text:N",
        color=alt.condition("datum.dark", alt.value("#ffffff"), alt.value("#1a1a1a")),
    )
    # a transparent cell on top catches the clicks (also on the printed count) and outlines the pick
    hit = base.mark_rect(fill="transparent", cursor="pointer").encode(
        stroke=alt.condition(sel, alt.value("#1a1a1a"), alt.value("transparent"), empty=False),
        strokeWidth=alt.value(2),
    ).add_params(sel)
    return alt.layer(rect, text, hit)


def monthly(df: pd.DataFrame, x_title: str, y_title: str, colour_title: str, order: list[str],
            months: list[str]) -> alt.Chart:
    """Stacked bars per month. ``df``: month_label (the month, formatted in the session's
    language), label (translated category), cases (numbers; hidden "< k" cells are dropped).
    ``order``: legend order; ``months``: the month labels in time order."""
    data = df[["month_label", "label"]].copy()
    data["cases"] = _number_or_nan(df["cases"])
    data = data[data["cases"].notna()]
    palette = (PALETTE * (1 + len(order) // len(PALETTE)))[: max(len(order), 1)]
    many = len(months) > 14
    return alt.Chart(data, height=HEIGHT + 90).mark_bar().encode(
        x=alt.X("month_label:O", sort=months, scale=alt.Scale(domain=months), title=x_title,
                axis=alt.Axis(labelAngle=-45 if many else 0, labelOverlap="parity" if many else False)),
        y=alt.Y("sum(cases):Q", title=y_title, axis=alt.Axis(tickMinStep=1)),
        color=alt.Color("label:N", title=colour_title, sort=order, scale=alt.Scale(domain=order, range=palette),
                        legend=alt.Legend(orient="bottom", columns=4, labelLimit=260)),
        order=alt.Order("label:N"),
        tooltip=[alt.Tooltip("month_label:O", title=x_title), alt.Tooltip("label:N", title=colour_title),
                 alt.Tooltip("cases:Q", title=y_title)],
    )


def justice(df: pd.DataFrame, x_title: str, step_title: str, outcome_title: str, order: list[str], outcomes: list[str]) -> alt.Chart:
    """Horizontal stacked bars: one per step of the justice track (``label``, in ``order``),
    judgements split by outcome (``outcome_label``, in ``outcomes``; the first one is the
    label of the steps that have no outcome, left out of the legend). ``df``: label,
    outcome_label, events (numbers; hidden cells already dropped)."""
    data = df[["label", "outcome_label"]].copy()
    data["events"] = _number_or_nan(df["events"])
    data = data[data["events"].notna()]
    colours = ["#1f5f8b", "#2e8b57", "#e07b39", "#8c8c8c", "#b8474f"][: len(outcomes)]
    # the legend explains the judgement outcomes present; the other steps are plain bars
    shown = [o for o in outcomes[1:] if o in set(data["outcome_label"])]
    return alt.Chart(data, height=46 * len(order) + 130).mark_bar().encode(
        x=alt.X("sum(events):Q", title=x_title, axis=alt.Axis(tickMinStep=1)),
        y=alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=260, labelFontSize=12)),
        color=alt.Color("outcome_label:N", title=outcome_title, sort=outcomes,
                        scale=alt.Scale(domain=outcomes, range=colours),
                        legend=alt.Legend(orient="bottom", values=shown) if shown else None),
        tooltip=[alt.Tooltip("label:N", title=step_title), alt.Tooltip("outcome_label:N", title=outcome_title),
                 alt.Tooltip("events:Q", title=x_title)],
    )
