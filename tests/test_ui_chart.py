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
