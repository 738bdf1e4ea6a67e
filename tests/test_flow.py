"""Case flow queries on the hand-built history of tests/flow_fixture.py (both dialects).

Period: 2026-01-01 – 2026-03-31, today 2026-03-31. The cohort is C1–C5 (C6 was identified
in November 2025)."""
import math

import pandas as pd
import pytest

from dashboard.charts import flow as charts
from dashboard.queries import flow
from tests.flow_fixture import PERIOD, build


@pytest.fixture(scope="module")
def db(module_engine):
    build(module_engine)
    return module_engine


def run(db, fn, *args, f=PERIOD, **kwargs):
    with db.connect() as conn:
        return fn(conn, f, *args, **kwargs)


def test_funnel_counts_and_conversion(db):
    df = run(db, flow.funnel).set_index("stage")
    assert list(df.index) == ["identification", "immediate_assistance", "protection", "return_reintegration", "closed"]
    # reached: identification C1–C5 = 5; immediate C1 C2 C3 C5 = 4; protection C1 C2 = 2;
    # return C1 = 1; closed (from any stage) C1 C3 = 2
    assert df["reached"].tolist() == [5, 4, 2, 1, 2]
    assert df["base"].tolist() == [5, 5, 4, 2, 5]
    # conversion: —, 4/5, 2/4, 1/2, closed 2/5 of the cohort
    assert math.isnan(df.loc["identification", "conversion"])
    assert df["conversion"].iloc[1:].tolist() == pytest.approx([0.8, 0.5, 0.5, 0.4])
    # furthest stage, open / closed: identification C4 open; immediate C5 open, C3 closed;
    # protection C2 open; return C1 closed
    assert df["stopped_open"].tolist() == [1, 1, 1, 0, 0]
    assert df["stopped_closed"].tolist() == [0, 1, 0, 1, 0]


def test_funnel_follows_region_filter(db):
    df = run(db, flow.funnel, f=PERIOD.with_(regions=("B",)))
    # only C4, identified and nothing more
    assert df["reached"].tolist() == [1, 0, 0, 0, 0]


def test_funnel_empty_period(db):
    from datetime import date

    df = run(db, flow.funnel, f=PERIOD.with_(start=date(2024, 1, 1), end=date(2024, 3, 31)))
    assert df.empty


def test_funnel_narrowed_by_matrix_cell(db):
    df = run(db, flow.funnel, pair=("POL", "SH"))
    # cases with a POL → SH referral sent in the period: C1 (R1), C2 (R2), C3 (R3), C4 (R7)
    assert df["reached"].tolist() == [4, 3, 2, 1, 2]
    assert df["conversion"].iloc[1:].tolist() == pytest.approx([0.75, 2 / 3, 0.5, 0.5])


def test_referral_matrix(db):
    df = run(db, flow.referral_matrix)
    cells = {(r.from_code, r.to_code): r.referrals for r in df.itertuples()}
    # sent in the period: POL→SH R1 R2 R3 R7; SH→NGO R4 R5; POL→NGO R6 R13; NGO→POL R8 (a loop)
    assert cells == {("POL", "SH"): 4, ("SH", "NGO"): 2, ("POL", "NGO"): 2, ("NGO", "POL"): 1}
    # ordered along the chain: law enforcement first, then NGO, shelter
    assert df[["from_code", "to_code"]].values.tolist()[0] == ["POL", "NGO"]
    assert df.loc[df["from_code"] == "POL", "from_name"].iloc[0] == "Police brigade"


def test_referral_matrix_narrowed_by_stage(db):
    df = run(db, flow.referral_matrix, stage="protection")
    cells = {(r.from_code, r.to_code): r.referrals for r in df.itertuples()}
    # cases that reached protection by today: C1, C2 (C6 sent nothing in the period)
    # C1: R1 POL→SH, R4 SH→NGO, R8 NGO→POL; C2: R2 POL→SH, R5 SH→NGO
    assert cells == {("POL", "SH"): 2, ("SH", "NGO"): 2, ("NGO", "POL"): 1}
    # identification: every case has reached it — nothing narrowed
    assert run(db, flow.referral_matrix, stage="identification")["referrals"].sum() == 9
    # closed: C1 and C3 — R1 R3 R4 R8
    assert run(db, flow.referral_matrix, stage="closed")["referrals"].sum() == 4


def test_referral_matrix_follows_the_case_filters(db):
    def cells(**changes):
        df = run(db, flow.referral_matrix, f=PERIOD.with_(**changes))
        return {(r.from_code, r.to_code): r.referrals for r in df.itertuples()}

    # region B is C4 alone (R7 POL→SH); region A the others
    assert cells(regions=("B",)) == {("POL", "SH"): 1}
    assert cells(regions=("A",)) == {("POL", "SH"): 3, ("SH", "NGO"): 2, ("POL", "NGO"): 2, ("NGO", "POL"): 1}
    # men: C3 (R3) and C4 (R7); forced labour C1 C2 C3: R1 R2 R3 R4 R5 R8
    assert cells(sex=("male",)) == {("POL", "SH"): 2}
    assert cells(exploitation=("forced_labour",)) == {("POL", "SH"): 3, ("SH", "NGO"): 2, ("NGO", "POL"): 1}
    # region B and the cases that reached protection: C4 never did
    df = run(db, flow.referral_matrix, stage="protection", f=PERIOD.with_(regions=("B",)))
    assert df.empty
    assert cells(regions=("B",), scope=("A",)) == {}


def _cells(df):
    return {(r.month, r.category): r.cases for r in df.itertuples()}


def test_monthly_by_sex_age_nationality(db):
    assert _cells(run(db, flow.identifications_by_month, by="sex")) == {
        ("2026-01", "female"): 2, ("2026-02", "male"): 2, ("2026-03", "female"): 1}
    assert _cells(run(db, flow.identifications_by_month, by="age_group")) == {
        ("2026-01", "adult"): 1, ("2026-01", "minor"): 1, ("2026-02", "adult"): 1, ("2026-02", "minor"): 1,
        ("2026-03", "unknown"): 1}
    assert _cells(run(db, flow.identifications_by_month, by="nationality")) == {
        ("2026-01", "foreign"): 1, ("2026-01", "national"): 1, ("2026-02", "national"): 2, ("2026-03", "unknown"): 1}


def test_monthly_by_exploitation_counts_each_type(db):
    # C1 has two types and counts once in each
    assert _cells(run(db, flow.identifications_by_month, by="exploitation")) == {
        ("2026-01", "forced_labour"): 2, ("2026-01", "sexual_exploitation"): 1, ("2026-02", "child_labour"): 1,
        ("2026-02", "forced_labour"): 1, ("2026-03", "unknown"): 1}


def test_monthly_narrowed_by_selection(db):
    # reached protection and identified in the period: C1, C2 (January, female)
    assert _cells(run(db, flow.identifications_by_month, by="sex", stage="protection")) == {("2026-01", "female"): 2}
    # a POL → NGO referral in the period: C5 only
    assert _cells(run(db, flow.identifications_by_month, by="sex", pair=("POL", "NGO"))) == {("2026-03", "female"): 1}
    # both: nobody
    assert run(db, flow.identifications_by_month, by="sex", stage="protection", pair=("POL", "NGO")).empty


def _justice(df):
    return {(r.step, None if pd.isna(r.outcome) else r.outcome): r.events for r in df.itertuples()}


def test_justice_track(db):
    # in the period: complaints C1 C3; investigations C1 C6; prosecution C1;
    # judgements C1 conviction, C3 dismissed (C6's complaint of December is out)
    assert _justice(run(db, flow.justice_track)) == {
        ("complaint", None): 2, ("investigation", None): 2, ("prosecution", None): 1,
        ("judgement", "conviction"): 1, ("judgement", "dismissed"): 1}
    assert run(db, flow.justice_track)["step"].tolist()[0] == "complaint"


def test_justice_track_narrowed(db):
    # reached protection: C1, C6
    assert _justice(run(db, flow.justice_track, stage="protection")) == {
        ("complaint", None): 1, ("investigation", None): 2, ("prosecution", None): 1, ("judgement", "conviction"): 1}
    # a POL → SH referral in the period: C1 C2 C3 C4
    assert _justice(run(db, flow.justice_track, pair=("POL", "SH"))) == {
        ("complaint", None): 2, ("investigation", None): 1, ("prosecution", None): 1,
        ("judgement", "conviction"): 1, ("judgement", "dismissed"): 1}


def test_funnel_furthest_stage_edge_cases(engine):
    """Cases with no event at all, with only a detection, with a stage dated after today,
    closed straight from identification, or with justice events only on the side: each is
    placed at its furthest referral-chain stage by today."""
    from datetime import date

    from dashboard import schema

    with engine.begin() as c:
        c.execute(schema.regions.insert(), [{"code": "A", "name": "Region A"}])
        base = {"region_id": 1, "sex": "female", "age_band": "18-20", "trafficking_status": "actual",
                "case_status": "active", "current_stage": "identification"}
        c.execute(schema.cases.insert(), [{**base, "code": f"N{i}", "identified_on": date(2026, 2, i)} for i in range(1, 6)])
        events = [
            (2, "detection", "02-02"),                                 # N2: detection only
            (3, "identification", "02-03"), (3, "immediate_assistance", "04-10"),  # N3: the next step after today
            (4, "identification", "02-04"), (4, "closed", "03-01"),     # N4: closed from identification
            (5, "complaint", "02-06"), (5, "protection", "03-01"),      # N5: straight to protection
        ]                                                               # N1: no event at all
        c.execute(schema.stage_events.insert(), [
            {"case_id": i, "stage": stage, "occurred_on": date.fromisoformat(f"2026-{on}")} for i, stage, on in events])
    with engine.connect() as conn:
        df = flow.funnel(conn, PERIOD).set_index("stage")
    assert df["reached"].tolist() == [5, 1, 1, 0, 1]
    assert df["base"].tolist() == [5, 5, 1, 1, 5]
    assert df["stopped_open"].tolist() == [3, 0, 1, 0, 0]  # N1 N2 N3 at identification; N5 at protection
    assert df["stopped_closed"].tolist() == [1, 0, 0, 0, 0]  # N4
    assert df["conversion"].iloc[1:].tolist() == pytest.approx([0.2, 1.0, 0.0, 0.2])


def test_reached_stages():
    assert flow.reached_stages("protection") == ("protection", "return_reintegration")
    assert flow.reached_stages("closed") == ("closed",)
    with pytest.raises(ValueError):
        flow.reached_stages("nowhere")


def test_click_selection_is_read_from_the_chart_event():
    event = {"selection": {"stage": [{"stage": "protection", "label": "Protection"}]}}
    assert charts.selected(event, "stage", ["stage"]) == ("protection",)
    event = {"selection": {"pair": [{"from_code": "POL", "to_code": "SH"}]}}
    assert charts.selected(event, "pair", ["from_code", "to_code"]) == ("POL", "SH")
    assert charts.selected({"selection": {"pair": []}}, "pair", ["from_code", "to_code"]) is None
    assert charts.selected(None, "stage", ["stage"]) is None


def _datasets_of(spec: dict) -> tuple[list[dict], dict[str, list[dict]]]:
    """The cells of a layered chart and its lookup tables by key, from ``chart.to_dict()``."""
    layers = spec.get("layer", [spec])
    cells = spec["datasets"][(spec.get("data") or layers[0]["data"])["name"]]
    lookups = {}
    for layer in layers:
        for step in layer.get("transform", []):
            if "lookup" in step:
                lookups[step["lookup"]] = (spec["datasets"][step["from"]["data"]["name"]], step["from"]["fields"])
    return cells, lookups


def test_matrix_sends_organisation_labels_once_per_organisation():
    """Names and types travel in one small table per side, joined back by Vega-Lite; each
    cell carries its codes, its count and the flags that colour it."""
    df = pd.DataFrame({
        "from_code": ["POL", "POL", "SH"], "to_code": ["SH", "NGO", "NGO"],
        "from_order": [1, 1, 2], "to_order": [2, 3, 3], "referrals": [12, "< 5", 7], "text": ["12", "< 5", "7"],
        "from_label": ["Police (POL)", "Police (POL)", "Shelter (SH)"],
        "from_type_label": ["Law enforcement", "Law enforcement", "Shelter"],
        "to_label": ["Shelter (SH)", "NGO (NGO)", "NGO (NGO)"], "to_type_label": ["Shelter", "NGO", "NGO"],
    })
    tooltips = {"from_label": "Sent by", "from_type_label": "Type of sender", "to_label": "Received by",
                "to_type_label": "Type of receiver", "text": "Referrals"}
    spec = charts.matrix(df, "Sent by", "Received by", "Referrals", tooltips).to_dict()
    cells, lookups = _datasets_of(spec)
    assert [set(c) for c in cells] == [{"from_code", "to_code", "text", "hidden", "dark", "value"}] * 3
    assert [(c["from_code"], c["to_code"], c["value"], c["hidden"]) for c in cells] == [
        ("POL", "SH", 12, False), ("POL", "NGO", 1, True), ("SH", "NGO", 7, False)]  # hidden: grey, 1 on the log scale
    senders, fields = lookups["from_code"]
    assert fields == ["from_label", "from_type_label"]
    assert senders == [{"from_code": "POL", "from_label": "Police (POL)", "from_type_label": "Law enforcement"},
                       {"from_code": "SH", "from_label": "Shelter (SH)", "from_type_label": "Shelter"}]
    receivers, fields = lookups["to_code"]
    assert [row["to_code"] for row in receivers] == ["SH", "NGO"] and fields == ["to_label", "to_type_label"]
    tooltip_fields = [t["field"] for t in spec["layer"][0]["encoding"]["tooltip"]]
    assert tooltip_fields == list(tooltips)
