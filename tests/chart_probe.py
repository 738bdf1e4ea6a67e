"""A chart builder that counts its calls (tests/test_ui_chart.py)."""
import altair as alt
import pandas as pd

CALLS = {"n": 0}


def bars(df: pd.DataFrame, title: str) -> alt.Chart:
    CALLS["n"] += 1
    sel = alt.selection_point(name="pick", fields=["k"])
    return alt.Chart(df).mark_bar().encode(x=alt.X("k:N", title=title), y="v:Q").add_params(sel)
