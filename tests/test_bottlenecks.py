"""Bottleneck queries on the hand-built history of tests/flow_fixture.py (both dialects).

Period: 2026-01-01 – 2026-03-31 (90 days), today 2026-03-31; previous period
2025-10-03 – 2025-12-31. Percentiles interpolate linearly: over n sorted values the
q-quantile sits at position h = (n − 1)·q, value v[⌊h⌋] + (h − ⌊h⌋)·(v[⌊h⌋+1] − v[⌊h⌋])."""
import math
from datetime import date

import pandas as pd
import pytest

from dashboard.db import quantiles_from_histogram

import numpy as np
import sqlalchemy as sa

from dashboard import derived, privacy, schema
from dashboard.privacy import AccessDenied, Viewer
from dashboard.queries import bottlenecks as b
from tests.flow_fixture import PERIOD, TODAY, build

COMMITTEE = Viewer("committee", "committee")


@pytest.fixture(scope="module")
def db(module_engine):
    build(module_engine)
    with module_engine.begin() as conn:
        derived.refresh(conn)  # as every writer does (the fixture inserts rows by hand)
    return module_engine


def run(db, fn, *args, f=PERIOD, **kwargs):
    with db.connect() as conn:
        return fn(conn, f, *args, **kwargs)


def test_per_receiver_counts_and_acceptance(db):
    df = run(db, b.performance, by="receiver").set_index("to_org")
    # IOM only has R12, sent before the period and still pending: nothing happened in the period
    assert list(df.index) == ["NGO", "POL", "SH"]
    # SH: sent R1 R2 R3 R7; acknowledged R1 R2 R3; accepted R1 R3; declined R2 (no capacity)
    sh = df.loc["SH"]
    assert (sh.sent, sh.acknowledged, sh.accepted, sh.declined, sh.declined_no_capacity) == (4, 3, 2, 1, 1)
    assert sh.acceptance_rate == pytest.approx(2 / 3) and sh.decisions == 3
    # NGO: sent R4 R5 R6 R13; acknowledged R4 R6 R13; accepted R4 R13; declined R11 (sent in
    # December, decided 2 January: the decision counts in the period)
    ngo = df.loc["NGO"]
    assert (ngo.sent, ngo.acknowledged, ngo.accepted, ngo.declined, ngo.declined_person_refused) == (4, 3, 2, 1, 1)
    assert ngo.acceptance_rate == pytest.approx(2 / 3)
    assert df.loc["POL", "acceptance_rate"] == 1.0  # R8: 1 ÷ 1
    assert df.loc["SH", "to_name"] == "Transit shelter" and df.loc["SH", "to_type"] == "Shelter"


def test_medians_p90_and_n(db):
    df = run(db, b.performance, by="receiver").set_index("to_org")
    sh = df.loc["SH"]
    # days to decision 3, 5, 10 → median 5; P90: h = 1.8 → 5 + 0.8·(10 − 5) = 9.0
    assert (sh.decision_n, sh.decision_median, sh.decision_p90) == (3, 5.0, pytest.approx(9.0))
    # days to acknowledge 1, 2, 0 → sorted 0 1 2: median 1; P90 1 + 0.8·1 = 1.8
    assert (sh.acknowledge_n, sh.acknowledge_median, sh.acknowledge_p90) == (3, 1.0, pytest.approx(1.8))
    # days to first service 4 (R1), 11 (R3) → median 7.5; P90 h = 0.9 → 4 + 0.9·7 = 10.3
    assert (sh.first_service_n, sh.first_service_median, sh.first_service_p90) == (2, 7.5, pytest.approx(10.3))
    ngo = df.loc["NGO"]
    # decisions R4 2, R11 13, R13 5 → 2 5 13: median 5; P90 5 + 0.8·8 = 11.4
    assert (ngo.decision_n, ngo.decision_median, ngo.decision_p90) == (3, 5.0, pytest.approx(11.4))
    # first services R4 5, R13 7 → median 6; P90 5 + 0.9·2 = 6.8
    assert (ngo.first_service_median, ngo.first_service_p90) == (6.0, pytest.approx(6.8))
    # POL got R8 (no service yet): n 0 and no median
    assert df.loc["POL", "first_service_n"] == 0 and math.isnan(df.loc["POL", "first_service_median"])


def test_per_pair(db):
    df = run(db, b.performance, by="pair").set_index(["from_org", "to_org"])
    assert sorted(df.index) == [("NGO", "POL"), ("POL", "NGO"), ("POL", "SH"), ("SH", "NGO")]
    # SH → NGO: sent R4 R5; decided R4 (2, accepted), R11 (13, declined)
    row = df.loc[("SH", "NGO")]
    assert (row.sent, row.accepted, row.declined, row.decision_median) == (2, 1, 1, 7.5)
    assert row.decision_p90 == pytest.approx(11.9)  # 2 + 0.9·11
    assert df.loc[("POL", "SH"), "decision_median"] == 5.0


def test_overall(db):
    row = run(db, b.performance, by="all").iloc[0]
    # sent R1–R8 and R13 = 9; decisions R1 R2 R3 R4 R8 R11 R13: accepted 5, declined 2
    assert (row.sent, row.acknowledged, row.accepted, row.declined) == (9, 7, 5, 2)
    assert row.acceptance_rate == pytest.approx(5 / 7)
    # decisions 2 3 5 5 10 13 13 → median 5; P90 h = 5.4 → 13 + 0.4·0 = 13
    assert (row.decision_n, row.decision_median, row.decision_p90) == (7, 5.0, 13.0)
    # first services 4 5 7 11 → median 6; P90 h = 2.7 → 7 + 0.7·4 = 9.8
    assert (row.first_service_median, row.first_service_p90) == (6.0, pytest.approx(9.8))
    assert (row.declined_no_capacity, row.declined_not_eligible, row.declined_person_refused, row.declined_other) == (1, 0, 1, 0)


def test_empty_selection(db):
    f = PERIOD.with_(regions=("B",), start=PERIOD.start.replace(year=2024), end=PERIOD.end.replace(year=2024))
    assert run(db, b.performance, by="receiver", f=f).empty
    assert run(db, b.performance, by="all", f=f).empty
    assert run(db, b.ranking, f=f).empty


@pytest.mark.parametrize("filters", [PERIOD, PERIOD.with_(regions=("B",)), PERIOD.with_(sex=("male",)),
                                     PERIOD.with_(start=date(2024, 1, 1), end=date(2024, 3, 31))],
                         ids=["all", "region B", "men", "empty"])
def test_performance_levels_are_the_three_groupings_in_one(db, filters):
    """One statement by pair, added up to receivers and overall: the same frames as three calls."""
    levels = run(db, b.performance_levels, f=filters)
    assert sorted(levels) == ["all", "pair", "receiver"]
    for by, got in levels.items():
        expected = run(db, b.performance, by=by, f=filters)
        if expected.empty:
            assert got.empty and list(got.columns) == list(expected.columns)
            continue
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    if filters is PERIOD:  # the overall row of test_overall, added up from the pairs
        row = levels["all"].iloc[0]
        assert (row.sent, row.accepted, row.declined, row.decision_n, row.decision_median) == (9, 5, 2, 7, 5.0)


def test_overdue_counts_and_age(db):
    s = run(db, b.overdue_summary).iloc[0]
    # pending today: R5 R6 R7 R12; overdue R5 (11 > 3), R6 (24 > 5), R12 (181 > 7); R7 (1 ≤ 2) is not
    assert (s.pending, s.overdue, s.n) == (4, 3, 3)
    # ages 11 24 181 → median 24; P90 24 + 0.8·157 = 149.6
    assert s.median_age == 24.0 and s.p90_age == pytest.approx(149.6)
    df = run(db, b.overdue_by_age)
    assert {(r.to_org, r.bucket): r.referrals for r in df.itertuples()} == {
        ("IOM", "91+"): 1, ("NGO", "8-14"): 1, ("NGO", "15-30"): 1}


def test_overdue_list_for_committee(db):
    df = run(db, b.overdue_list, COMMITTEE)
    assert df["case_code"].tolist() == ["C6", "C5", "C2"]  # most overdue first
    assert df["referral_code"].tolist() == ["R12", "R6", "R5"]
    assert df["days_over"].tolist() == [174, 19, 8] and df["target_days"].tolist() == [7, 5, 3]
    assert run(db, b.overdue_list, COMMITTEE, f=PERIOD.with_(regions=("B",))).empty  # C4's R7 is not overdue


@pytest.mark.parametrize("role", ["minister", "partner"])
def test_overdue_list_refused_to_aggregate_roles(db, role):
    with pytest.raises(AccessDenied):
        run(db, b.overdue_list, Viewer(role, role))


def test_overdue_list_refuses_wider_than_scope(db):
    focal = Viewer("focal", "committee", regions=("B",))
    with pytest.raises(AccessDenied):
        run(db, b.overdue_list, focal)  # filters without the viewer's scope
    assert run(db, b.overdue_list, focal, f=PERIOD.with_(scope=("B",))).empty


def test_ranking_order_and_change(db):
    df = run(db, b.ranking, limit=None)
    # medians: NGO→POL 13 (R8); SH→NGO 7.5 (2, 13); POL→NGO 5 (R13) and POL→SH 5 (3, 5, 10):
    # tie broken by overdue (POL→NGO has R6 overdue, POL→SH none)
    assert list(zip(df["from_org"], df["to_org"])) == [("NGO", "POL"), ("SH", "NGO"), ("POL", "NGO"), ("POL", "SH")]
    assert df["median"].tolist() == [13.0, 7.5, 5.0, 5.0]
    assert df["overdue"].tolist() == [0, 1, 1, 0]
    assert df["n"].tolist() == [1, 2, 1, 3]
    last = df.iloc[3]
    # previous period: R9 (2) and R10 (4) → median 3; change 5 − 3 = +2
    assert (last.previous_n, last.previous_median, last.change, last.change_n) == (2, 3.0, 2.0, 2)
    assert last.p90 == pytest.approx(9.0) and last.from_name == "Police brigade" and last.to_name == "Transit shelter"
    assert math.isnan(df.iloc[1]["previous_median"]) and math.isnan(df.iloc[1]["change"])
    assert df.iloc[1]["previous_n"] == 0
    assert list(df.columns[:10]) == ["from_org", "to_org", "from_name", "to_name", "n", "median", "p90", "overdue",
                                     "previous_n", "previous_median"]


def test_ranking_limit_and_min_n(db):
    assert len(run(db, b.ranking)) == 3  # default limit
    df = run(db, b.ranking, limit=5, min_n=2)
    assert list(zip(df["from_org"], df["to_org"])) == [("SH", "NGO"), ("POL", "SH")]


def test_ranking_protected_for_ministers(db):
    df = run(db, b.ranking, limit=None)
    shown = privacy.protect(df, Viewer("m", "minister"), 3, counts=b.RANKING_COUNTS, stats=b.RANKING_STATS)
    pol_sh = shown.iloc[3]
    # n = 3 ≥ k: median shown; previous n = 2 < k: previous median and change withheld
    assert pol_sh["median"] == 5.0 and pol_sh["previous_median"] is None and pol_sh["change"] is None
    assert shown.iloc[0]["median"] is None and shown.iloc[0]["n"] == "< 3"


def test_decided_within_target(db):
    row = run(db, b.decided_within_target).iloc[0]
    # decided in the period: R1 3 > 2, R2 5 > 2, R3 10 > 2 (shelter); R4 2 ≤ 3 (NGO psychosocial);
    # R8 13 > 5 (law enforcement); R11 13 > 3; R13 5 ≤ 5 (NGO, no specific target for food)
    assert (row.decided, row.within_target) == (7, 2)
    assert row.share == pytest.approx(2 / 7)


def test_time_in_stage_and_backlog(db):
    df = run(db, b.time_in_stage).set_index("stage")
    assert list(df.index) == ["detection", "identification", "immediate_assistance", "protection", "return_reintegration"]
    # detection → identification: C1 1, C2 0, C3 0 → median 0, P90 0 + 0.8·1 = 0.8
    assert (df.loc["detection", "n"], df.loc["detection", "median"]) == (3, 0.0)
    assert df.loc["detection", "p90"] == pytest.approx(0.8)
    # identification → next: C1 2, C2 1, C3 5, C5 2 (C6 left it in 2025) → 1 2 2 5: median 2, P90 2 + 0.7·3 = 4.1
    assert (df.loc["identification", "n"], df.loc["identification", "median"]) == (4, 2.0)
    assert df.loc["identification", "p90"] == pytest.approx(4.1)
    # immediate assistance → next: C1 8, C2 16, C3 19 (closed), C6 55 → median 17.5; P90 19 + 0.7·36 = 44.2
    assert (df.loc["immediate_assistance", "n"], df.loc["immediate_assistance", "median"]) == (4, 17.5)
    assert df.loc["immediate_assistance", "p90"] == pytest.approx(44.2)
    # protection → return: C1 31; return → closed: C1 18
    assert df.loc["protection", "median"] == 31.0 and df.loc["return_reintegration", "median"] == 18.0
    # backlog today: identification C4 (39 days); immediate C5 (24); protection C2 (58), C6 (85)
    assert df["backlog"].tolist() == [0, 1, 1, 2, 0]
    assert df.loc["identification", "backlog_median_age"] == 39.0
    assert df.loc["immediate_assistance", "backlog_median_age"] == 24.0
    assert df.loc["protection", "backlog_median_age"] == 71.5
    assert df.loc["protection", "backlog_p90_age"] == pytest.approx(82.3)  # 58 + 0.9·27
    assert pd.isna(df.loc["return_reintegration", "backlog_median_age"])


def test_time_in_stage_follows_region(db):
    df = run(db, b.time_in_stage, f=PERIOD.with_(regions=("B",))).set_index("stage")
    # C4 only: identified, nothing since
    assert df["n"].sum() == 0 and df["backlog"].tolist() == [0, 1, 0, 0, 0]


def test_case_filters_apply(db):
    # men only: C3 (R3 POL→SH) and C4 (R7 POL→SH)
    df = run(db, b.performance, by="receiver", f=PERIOD.with_(sex=("male",))).set_index("to_org")
    assert list(df.index) == ["SH"]
    assert (df.loc["SH", "sent"], df.loc["SH", "decision_n"], df.loc["SH", "decision_median"]) == (2, 1, 10.0)
    # minors: C2 (R2, R5) and C4 (R7); C2 is in protection, C4 in identification
    minors = PERIOD.with_(age_group="minor")
    assert run(db, b.time_in_stage, f=minors).set_index("stage")["backlog"].tolist() == [0, 1, 0, 1, 0]
    assert run(db, b.decided_within_target, f=minors).iloc[0]["decided"] == 1  # R2


def test_per_receiver_in_one_region(db):
    # region B: C4 only — R7 POL→SH sent 30 March, still pending
    df = run(db, b.performance, by="receiver", f=PERIOD.with_(regions=("B",)))
    assert df["to_org"].tolist() == ["SH"]
    row = df.iloc[0]
    assert (row.sent, row.acknowledged, row.decisions, row.decision_n, row.first_service_n) == (1, 0, 0, 0, 0)
    assert math.isnan(row.decision_median) and math.isnan(row.acceptance_rate)
    pairs = run(db, b.performance, by="pair", f=PERIOD.with_(regions=("B",)))
    assert list(zip(pairs["from_org"], pairs["to_org"], pairs["sent"])) == [("POL", "SH", 1)]


def test_time_in_stage_from_the_events_is_the_same(db):
    """Without the derived stage_spans (a database never refreshed), the figures come from
    the stage events: the same answers."""
    # whole months; whole months and days around them; no whole month; case filters
    filters = [PERIOD, PERIOD.with_(start=date(2026, 1, 12), end=date(2026, 3, 5)),
               PERIOD.with_(start=date(2026, 2, 2), end=date(2026, 2, 27)),
               PERIOD.with_(start=date(2025, 12, 20), end=date(2026, 2, 28)),
               PERIOD.with_(regions=("B",)), PERIOD.with_(sex=("female",))]
    fast = [run(db, b.time_in_stage, f=f) for f in filters]
    with db.connect() as conn:
        trans = conn.begin()
        conn.execute(schema.stage_spans.delete())
        assert not derived.is_filled(conn, schema.stage_spans)
        slow = [b.time_in_stage(conn, f) for f in filters]
        trans.rollback()
    for a, z in zip(fast, slow):
        pd.testing.assert_frame_equal(a, z)
    assert fast[-1]["n"].tolist() == [2, 3, 3, 1, 1]  # C1 C2 C5 C6 (women): C3's spans left out
    # 12 January – 5 March: detection → identification C2 (15 Jan), C3 (5 Feb); identification
    # → next C1 (12 Jan), C2 (16 Jan), C3 (10 Feb); immediate → next C1 (20 Jan), C2 (1 Feb),
    # C3 (1 Mar); protection → return C1 (20 Feb); C1's closing (10 Mar) is after the period
    assert fast[1]["n"].tolist() == [2, 3, 3, 1, 0]


def test_time_in_stage_leaves_out_events_after_today(db):
    expected = run(db, b.time_in_stage)
    with db.connect() as conn:
        trans = conn.begin()
        # C4 (id 4) reaches immediate assistance and C5 (id 5) protection, both after today
        conn.execute(schema.stage_events.insert(), [
            {"case_id": 4, "stage": "immediate_assistance", "occurred_on": date(2026, 4, 5)},
            {"case_id": 5, "stage": "protection", "occurred_on": date(2026, 4, 2)}])
        derived.refresh_cases(conn, [4, 5])
        assert derived.latest_stage_entry(conn) > TODAY
        got = b.time_in_stage(conn, PERIOD)
        trans.rollback()
    pd.testing.assert_frame_equal(got, expected)


def test_quantiles_of_a_histogram_equal_numpy_on_the_expanded_values():
    """The vectorised interpolation over many groups at once gives, for every group, what
    numpy's linear percentile gives on the values written out one by one."""
    rng = np.random.default_rng(3)
    hist = pd.DataFrame({"a": rng.integers(0, 4, 300), "b": rng.integers(0, 3, 300),
                         "v": rng.integers(-5, 60, 300), "c": rng.integers(1, 9, 300)})
    hist = pd.concat([hist, pd.DataFrame({"a": [9], "b": [9], "v": [7], "c": [1]})], ignore_index=True)
    values = hist.loc[hist.index.repeat(hist["c"])]
    for keys in (["a", "b"], ["a"], []):
        got = quantiles_from_histogram(hist, keys)
        groups = values.groupby(keys) if keys else [((), values)]
        want = {key if isinstance(key, tuple) else (key,): (len(g), np.percentile(g["v"], 50), np.percentile(g["v"], 90))
                for key, g in groups}
        assert len(got) == len(want)
        for row in got.itertuples(index=False):
            n, med, p90 = want[tuple(getattr(row, k) for k in keys)]
            assert (row.n, round(row.median, 9), round(row.p90, 9)) == (n, round(med, 9), round(p90, 9))
    assert quantiles_from_histogram(hist.iloc[0:0], ["a"]).empty
