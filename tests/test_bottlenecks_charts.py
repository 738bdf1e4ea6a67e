"""Chart builders of the bottlenecks page: what their Vega-Lite specs carry to the browser."""
import pandas as pd

from dashboard.charts import bottlenecks as charts


def _cells_and_lookup(spec: dict):
    cells = spec["datasets"][spec["data"]["name"]]
    lookups = [step for step in spec.get("transform", []) if "lookup" in step]
    return cells, lookups


def test_stacked_sends_each_organisation_name_once():
    """The organisation's name (the same on each of its bars) travels in a lookup table with
    one row per organisation; hidden "< k" cells and zeros are left out of the data."""
    df = pd.DataFrame({
        "to_org": ["SH", "SH", "SH", "NGO", "NGO"],
        "name": ["Transit shelter (SH)"] * 3 + ["Women's NGO (NGO)"] * 2,
        "reason_label": ["No capacity", "Not eligible", "Other", "No capacity", "Other"],
        "declined": [7, "< 5", 0, 12, 5],
        "declined_text": ["7", "< 5", "0", "12", "5"],
    })
    reasons = ["No capacity", "Not eligible", "Person refused", "Other"]
    chart = charts.stacked(df, "to_org", "Received by", "declined", "Declined", "reason_label", "Reason",
                           charts.REASON_COLOURS, reasons,
                           {"name": "Received by", "reason_label": "Reason", "declined_text": "Declined"})
    spec = chart.to_dict()
    cells, lookups = _cells_and_lookup(spec)
    assert cells == [
        {"to_org": "SH", "declined": 7, "reason_label": "No capacity", "declined_text": "7"},
        {"to_org": "NGO", "declined": 12, "reason_label": "No capacity", "declined_text": "12"},
        {"to_org": "NGO", "declined": 5, "reason_label": "Other", "declined_text": "5"},
    ]
    assert len(lookups) == 1 and lookups[0]["lookup"] == "to_org" and lookups[0]["from"]["fields"] == ["name"]
    assert spec["datasets"][lookups[0]["from"]["data"]["name"]] == [
        {"to_org": "SH", "name": "Transit shelter (SH)"}, {"to_org": "NGO", "name": "Women's NGO (NGO)"}]
    assert [t["field"] for t in spec["encoding"]["tooltip"]] == ["name", "reason_label", "declined_text"]


def test_stacked_without_repeated_columns_has_no_lookup():
    df = pd.DataFrame({"to_org": ["SH", "NGO"], "bucket_label": ["up to 7 days"] * 2, "referrals": [3, 4],
                       "referrals_text": ["3", "4"]})
    spec = charts.stacked(df, "to_org", None, "referrals", "Overdue", "bucket_label", "Age", charts.AGE_COLOURS,
                          ["up to 7 days"], {"referrals_text": "Overdue"}).to_dict()
    cells, lookups = _cells_and_lookup(spec)
    assert lookups == [] and [c["referrals"] for c in cells] == [3, 4]


def test_median_p90_legend_is_inline_and_withheld_medians_are_dropped():
    df = pd.DataFrame({"org": ["SH", "NGO", "POL"], "median": [5.0, "< 5", 2.5], "p90": [9.0, None, 4.1],
                       "name": ["Transit shelter (SH)", "Women's NGO (NGO)", "Police (POL)"],
                       "median_text": ["5.0", "—", "2.5"]})
    spec = charts.median_p90(df, "org", "Received by", "Days", "Median", "90th percentile",
                             {"name": "Received by", "median_text": "Median"}).to_dict()
    bars = spec["datasets"][spec["layer"][0]["data"]["name"]]
    assert [(row["org"], row["median"], row["p90"]) for row in bars] == [("SH", 5.0, 9.0), ("POL", 2.5, 4.1)]
    legend = spec["layer"][2]["data"]
    assert legend == {"values": [{"what": "Median"}, {"what": "90th percentile"}]}
