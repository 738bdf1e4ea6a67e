"""ui.PageContext.chart: a builder's spec is cached per input and language and draws the same
chart as the Altair object would."""
import json

from streamlit.testing.v1 import AppTest

from tests import chart_probe


def _script(mode: str, n: int = 3):
    import pandas as pd

    from dashboard import ui
    from dashboard.i18n import translator
    from tests import chart_probe

    ctx = ui.PageContext(t=translator("fr"), viewer=None, filters=None, settings=None)
    df = pd.DataFrame({"k": ["a", "b", "c"][:n], "v": [1, 2, 3][:n]})
    if mode == "builder":
        ctx.chart(chart_probe.bars, df, "Clé", on_select="rerun", key="c1")
    else:
        ctx.chart(chart_probe.bars(df, "Clé"), on_select="rerun", key="c1")


def _spec(at: AppTest) -> dict:
    el = at.get("vega_lite_chart")[0]
    return json.loads(el.proto.spec)


def _run(mode: str, n: int = 3) -> AppTest:
    return AppTest.from_function(_script, args=(mode, n)).run()


def test_builder_and_object_draw_the_same_chart():
    by_builder, by_object = _run("builder"), _run("object")
    assert not by_builder.exception and not by_object.exception
    a, b = _spec(by_builder), _spec(by_object)
    assert a == b
    # French axis labels were applied (charts.localize), and the selection is kept
    assert "axisQuantitative" in a["config"]
    assert [p["name"] for p in a["params"]] == ["pick"]
    pa = by_builder.get("vega_lite_chart")[0].proto
    pb = by_object.get("vega_lite_chart")[0].proto
    assert [d.data.data for d in pa.datasets] == [d.data.data for d in pb.datasets]
    assert list(pa.selection_mode) == ["pick"]


def test_builder_runs_once_per_distinct_input():
    from dashboard import ui

    ui.chart_spec.clear()
    chart_probe.CALLS["n"] = 0
    at = _run("builder")
    at.run()
    at.run()
    assert chart_probe.CALLS["n"] == 1  # three runs, one build
    _run("builder", n=2)  # other data: built again
    assert chart_probe.CALLS["n"] == 2


def test_localize_keeps_a_charts_own_vega_locale():
    """Shelter charts format numbers with a Vega locale of their own: ctx.chart's localisation
    adds the month names of time axes and keeps that locale (no second number format)."""
    import pandas as pd
    import pytest

    from dashboard.charts import localize
    from dashboard.charts import shelters as sc

    df = pd.DataFrame({"destination_label": ["Famille", "Autre"], "exits": [12, "< 5"]})
    own = sc.in_language("horizontal_bars", "fr", df, "destination_label", "exits", "Destination", "Sorties")
    config = localize(own, "fr").to_dict()["config"]
    assert config["locale"]["number"]["decimal"] == "," and config["locale"]["number"]["thousands"] == "\u202f"
    assert "axisTemporal" in config and "axisQuantitative" not in config
    # a chart without a locale of its own gets the French number labels
    plain = localize(sc.horizontal_bars(df, "destination_label", "exits", "Destination", "Sorties"), "fr")
    assert "locale" not in plain.to_dict()["config"] and "axisQuantitative" in plain.to_dict()["config"]
    # only this module's builders can be named
    with pytest.raises(ValueError, match="unknown shelters chart 'localized'"):
        sc.in_language("localized", "fr", df)
