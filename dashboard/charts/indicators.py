"""Charts of the project indicators page (pure: DataFrames and translated labels in, Altair out)."""
from __future__ import annotations

import altair as alt
import pandas as pd

from dashboard.charts import HEIGHT, PALETTE

SEX_COLOURS = {"all": PALETTE[0], "female": PALETTE[1], "male": PALETTE[2]}


def trend(df: pd.DataFrame, value_col: str, titles: dict, sex_labels: dict, baseline: float, target: float,
          quarter_labels: dict | None = None) -> alt.Chart:
    """Values per period (x: the period's label, in order), one line per sex, with the
    baseline and the target as dashed reference lines. ``titles``: period, value, sex,
    baseline, target. Rows whose value is missing or hidden are left out."""
    data = df.copy()
    data["v"] = pd.to_numeric(data[value_col], errors="coerce")
    data = data[data["v"].notna()]
    data["period"] = [quarter_labels.get(q, q) if quarter_labels else q for q in data["quarter"]]
    data["sex_label"] = [sex_labels.get(s, s) for s in data["sex"]]
    order = list(dict.fromkeys(data.sort_values("period_end")["period"]))
    sexes = [s for s in ("all", "female", "male") if s in set(data["sex"])]
    x = alt.X("period:O", title=titles["period"], sort=order, axis=alt.Axis(labelAngle=-45, labelLimit=120))
    lines = alt.Chart(data).mark_line(point=True).encode(
        x=x,
        y=alt.Y("v:Q", title=titles["value"]),
        color=alt.Color("sex_label:N", title=titles["sex"], sort=[sex_labels[s] for s in sexes],
                        scale=alt.Scale(domain=[sex_labels[s] for s in sexes], range=[SEX_COLOURS[s] for s in sexes]),
                        legend=alt.Legend(orient="bottom") if len(sexes) > 1 else None),
        tooltip=[alt.Tooltip("period:O", title=titles["period"]), alt.Tooltip("sex_label:N", title=titles["sex"]),
                 alt.Tooltip("v:Q", title=titles["value"], format=",.1f")],
    )
    refs = pd.DataFrame({"y": [baseline, target], "label": [titles["baseline"], titles["target"]]})
    rule = alt.Chart(refs).mark_rule(strokeDash=[5, 4], color="#555555").encode(y="y:Q")
    text = alt.Chart(refs).mark_text(align="left", dx=4, dy=-6, color="#555555").encode(
        y="y:Q", x=alt.value(0), text="label:N")
    return alt.layer(lines, rule, text).properties(height=HEIGHT + 120)  # Streamlit fits axes and legend in
