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
