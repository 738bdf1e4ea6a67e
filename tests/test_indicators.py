"""Project indicators on hand-built case data: computed metrics under filters, manual values
(latest recorded wins, history kept), progress in both directions, traffic lights."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from dashboard import schema as s
from dashboard.filters import Filters
from dashboard.privacy import Viewer, protect
from dashboard.profiles import COMPUTATIONS as PROFILE_COMPUTATIONS
from dashboard.queries import indicators as q

TODAY = date(2026, 6, 30)
H2_2025 = Filters(start=date(2025, 7, 1), end=date(2025, 12, 31), today=TODAY)

# code, unit, baseline, target, direction, disaggregation, source, computation, result (1 = outcome, 2 = output)
INDICATORS = [
    ("I-VA", "number", 0, 100, "increase", "sex", "computed", "victims_assisted", 2),
    ("I-CI", "number", 0, 10, "increase", "none", "computed", "cases_identified", 2),
    ("I-RS", "number", 0, 10, "increase", "none", "computed", "referrals_sent", 2),
    ("I-RP", "percent", 40, 80, "increase", "none", "computed", "referrals_accepted_within_target_pct", 2),
    ("I-MD", "days", 10, 4, "decrease", "none", "computed", "median_days_to_first_service", 2),
    ("I-SA", "number", 0, 10, "increase", "sex", "computed", "shelter_admissions", 2),
    ("I-AR", "number", 0, 10, "increase", "none", "computed", "assisted_returns", 2),
    ("M-INC", "number", 10, 30, "increase", "sex", "manual", None, 2),
    ("M-DEC", "percent", 20, 10, "decrease", "none", "manual", None, 2),
    ("M-YN", "yes_no", 0, 1, "increase", "none", "manual", None, 1),  # on the outcome itself
]
# code, region, sex, identified_on
CASES = [
    ("C1", 1, "female", date(2025, 2, 10)),
    ("C2", 1, "male", date(2025, 5, 3)),
    ("C3", 2, "female", date(2025, 8, 20)),
    ("C4", 1, "female", date(2025, 11, 5)),
    ("C5", 2, "male", date(2026, 1, 15)),
    ("C6", 1, "unknown", date(2026, 2, 1)),
]
# case, service, provider, started_on  (days from identification to first service: C1 0, C2 4, C3 10, C4 1, C5 5)
SERVICES = [
    (1, "food", 3, date(2025, 2, 10)),
    (1, "medical", 3, date(2025, 3, 1)),
    (2, "psychosocial", 3, date(2025, 5, 7)),
    (3, "shelter", 2, date(2025, 8, 30)),
    (4, "assisted_voluntary_return", 4, date(2025, 11, 6)),
    (5, "food", 3, date(2026, 1, 20)),
    (5, "assisted_voluntary_return", 4, date(2026, 2, 15)),
]
# case, from, to, service, sent, decided, outcome   (targets: Shelter 2, NGO 5, NGO psychosocial 3, IOM 7)
REFERRALS = [
    (1, 1, 2, "shelter", date(2025, 2, 10), date(2025, 2, 11), "accepted"),      # 1 ≤ 2: within
    (2, 1, 3, "psychosocial", date(2025, 5, 3), date(2025, 5, 7), "accepted"),   # 4 > 3: late
    (3, 1, 3, "legal", date(2025, 8, 20), date(2025, 8, 24), "accepted"),        # 4 ≤ 5: within
    (4, 1, 4, "assisted_voluntary_return", date(2025, 11, 5), date(2025, 11, 6), "declined"),
    (5, 3, 2, "shelter", date(2026, 1, 15), date(2026, 1, 16), "accepted"),      # within
    (6, 1, 3, "food", date(2026, 2, 1), None, None),                             # pending
]
STAYS = [(1, date(2025, 2, 11), date(2025, 3, 1)), (3, date(2025, 8, 30), None), (5, date(2026, 1, 16), date(2026, 2, 10))]
# indicator, period start, end, sex, value, recorded_at
VALUES = [
    ("M-INC", date(2025, 1, 1), date(2025, 3, 31), "all", 12, datetime(2025, 4, 5)),
    ("M-INC", date(2025, 4, 1), date(2025, 6, 30), "all", 15, datetime(2025, 7, 3)),
    ("M-INC", date(2025, 4, 1), date(2025, 6, 30), "all", 14, datetime(2025, 8, 1)),  # correction: wins
    ("M-INC", date(2025, 7, 1), date(2025, 9, 30), "all", 22, datetime(2025, 10, 2)),
    ("M-INC", date(2025, 7, 1), date(2025, 9, 30), "female", 12, datetime(2025, 10, 2)),
    ("M-INC", date(2025, 7, 1), date(2025, 9, 30), "male", 10, datetime(2025, 10, 2)),
    ("M-INC", date(2026, 1, 1), date(2026, 3, 31), "all", 40, datetime(2026, 4, 2)),  # above target
    ("M-DEC", date(2025, 7, 1), date(2025, 9, 30), "all", 15, datetime(2025, 10, 2)),
    ("M-DEC", date(2025, 10, 1), date(2025, 12, 31), "all", 25, datetime(2026, 1, 5)),  # worse than baseline
]


@pytest.fixture(scope="module")
def db(module_engine):
    with module_engine.begin() as c:
        c.execute(s.regions.insert(), [{"code": "A", "name": "Alpha"}, {"code": "B", "name": "Beta"}])
        c.execute(s.organisations.insert(), [
            {"code": "POL", "name": "Police", "org_type": "LawEnforcement", "region_id": 1},
            {"code": "SH", "name": "Shelter org", "org_type": "Shelter", "region_id": 1},
            {"code": "NGO", "name": "NGO", "org_type": "NGO", "region_id": 2},
            {"code": "IOM", "name": "IOM", "org_type": "InternationalOrganisation", "region_id": 1},
        ])
        c.execute(s.referral_targets.insert(), [
            {"org_type": "Shelter", "service_type": None, "days": 2}, {"org_type": "NGO", "service_type": None, "days": 5},
            {"org_type": "NGO", "service_type": "psychosocial", "days": 3},
            {"org_type": "InternationalOrganisation", "service_type": None, "days": 7}])
        c.execute(s.cases.insert(), [
            {"code": code, "region_id": reg, "sex": sex, "age_band": "18-20", "identified_on": on,
             "trafficking_status": "actual", "case_status": "active", "current_stage": "protection"}
            for code, reg, sex, on in CASES])
        c.execute(s.services.insert(), [
            {"code": f"S{i}", "case_id": case, "service_type": st, "provider_org_id": org, "started_on": on}
            for i, (case, st, org, on) in enumerate(SERVICES, 1)])
        c.execute(s.referrals.insert(), [
            {"code": f"R{i}", "case_id": case, "from_org_id": frm, "to_org_id": to, "service_type": st, "sent_on": sent,
             "decided_on": dec, "outcome": out, "days_to_decision": (dec - sent).days if dec else None}
            for i, (case, frm, to, st, sent, dec, out) in enumerate(REFERRALS, 1)])
        c.execute(s.shelters.insert(), [{"code": "SH1", "name": "Shelter", "organisation_id": 2, "region_id": 1}])
        c.execute(s.shelter_stays.insert(), [
            {"case_id": case, "shelter_id": 1, "entered_on": a, "exited_on": b} for case, a, b in STAYS])
        c.execute(s.projects.insert(), [{"code": "PRJ", "title_fr": "Projet", "title_en": "Project", "organisation_id": 4,
                                         "donor": "Donor", "starts_on": date(2025, 1, 1), "ends_on": date(2026, 12, 31)}])
        c.execute(s.project_results.insert(), [
            {"project_id": 1, "parent_id": None, "level": "outcome", "code": "OC1", "title_fr": "Effet", "title_en": "Outcome"},
            {"project_id": 1, "parent_id": 1, "level": "output", "code": "OP1", "title_fr": "Produit", "title_en": "Output"}])
        c.execute(s.indicators.insert(), [
            {"result_id": res, "code": code, "label_fr": f"FR {code}", "label_en": f"EN {code}", "unit": unit,
             "baseline": base, "baseline_on": date(2025, 1, 1), "target": target, "target_on": date(2026, 12, 31),
             "direction": direction, "disaggregation": dis, "source": src, "computation": comp}
            for code, unit, base, target, direction, dis, src, comp, res in INDICATORS])
        ids = {code: i for i, (code, *_r) in enumerate(INDICATORS, 1)}
        c.execute(s.indicator_values.insert(), [
            {"indicator_id": ids[code], "period_start": a, "period_end": b, "sex": sex, "value": v, "recorded_by": "t",
             "recorded_at": at} for code, a, b, sex, v, at in VALUES])
    return module_engine


def _matrix(db, f):
    with db.connect() as c:
        return q.with_progress(q.results_matrix(c, f, "PRJ", "en"))


def _value(m, code, sex="all", col=None):
    row = m[(m["code"] == code) & (m["sex"] == sex)].iloc[0]
    return row[col] if col else row["actual"]


def test_every_profile_computation_is_implemented():
    assert set(q.COMPUTATIONS) == set(PROFILE_COMPUTATIONS)
    root = Path(__file__).resolve().parent.parent / "data" / "profiles"
    used = set()
    for path in root.glob("*.yaml"):
        def walk(node):
            if isinstance(node, dict):
                if node.get("source") == "computed":
                    used.add(node["computation"])
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert used and used <= set(q.COMPUTATIONS)
    for code in used:
        assert q.kind_of("computed", code) in ("count", "rate")


def test_unknown_computation_fails_loudly(db):
    with pytest.raises(q.UnknownComputation):
        q.kind_of("computed", "victims_helped")
    with db.connect() as c, pytest.raises(q.UnknownComputation):
        q.measure(c, H2_2025, "victims_helped", date(2025, 1, 1), date(2025, 12, 31))


def test_computed_counts_cumulative_from_baseline(db):
    m = _matrix(db, H2_2025)
    # window 1 Jan – 31 Dec 2025: C1..C4 had a service (female C1, C3, C4; male C2)
    assert [_value(m, "I-VA", s) for s in ("all", "female", "male")] == [4, 3, 1]
    assert _value(m, "I-CI") == 4          # C1..C4 identified in 2025
    assert _value(m, "I-RS") == 4          # R1..R4 sent in 2025
    assert [_value(m, "I-SA", s) for s in ("all", "female", "male")] == [2, 2, 0]  # stays of C1 and C3
    assert _value(m, "I-AR") == 1          # S5 (S7 is in 2026)
    assert _value(m, "I-VA", col="as_of") == date(2025, 12, 31)
    # progress of an increasing count: (4 − 0) ÷ (100 − 0)
    assert _value(m, "I-VA", col="progress") == pytest.approx(0.04)


def test_computed_rates_over_the_period(db):
    m = _matrix(db, H2_2025)
    # decided in H2 2025: R3 within target, R4 declined → 1 of 2
    assert _value(m, "I-RP") == pytest.approx(50.0) and _value(m, "I-RP", col="n") == 2
    # first service in H2 2025: C3 after 10 days, C4 after 1 day → median 5.5
    assert _value(m, "I-MD") == pytest.approx(5.5) and _value(m, "I-MD", col="n") == 2
    # decreasing: (5.5 − 10) ÷ (4 − 10) = 0.75
    assert _value(m, "I-MD", col="progress") == pytest.approx(0.75)
    # (50 − 40) ÷ (80 − 40) = 0.25
    assert _value(m, "I-RP", col="progress") == pytest.approx(0.25)


def test_computed_indicator_under_region_and_period_filters(db):
    a = _matrix(db, H2_2025.with_(regions=("A",)))
    # region A: C1, C2, C4 (C3 is in B)
    assert [_value(a, "I-VA", s) for s in ("all", "female", "male")] == [3, 2, 1]
    assert _value(a, "I-RP") == pytest.approx(0.0) and _value(a, "I-RP", col="n") == 1   # R4 only
    assert _value(a, "I-MD") == pytest.approx(1.0)                                        # C4 only
    # period ending 30 June 2025: cumulative to then (C1, C2); rates over H1 2025
    h1 = _matrix(db, Filters(start=date(2025, 1, 1), end=date(2025, 6, 30), today=TODAY))
    assert _value(h1, "I-VA") == 2 and _value(h1, "I-CI") == 2
    assert _value(h1, "I-RP") == pytest.approx(50.0)   # R1 within, R2 late
    assert _value(h1, "I-MD") == pytest.approx(2.0)    # C1 0 days, C2 4 days
    # a sex filter narrows the cases too
    females = _matrix(db, H2_2025.with_(sex=("female",)))
    assert _value(females, "I-VA") == 3 and _value(females, "I-VA", "male") == 0


def test_manual_latest_value_wins_and_history_is_kept(db):
    h1 = _matrix(db, Filters(start=date(2025, 4, 1), end=date(2025, 6, 30), today=TODAY))
    assert _value(h1, "M-INC") == 14  # the correction recorded on 1 Aug replaces 15
    assert _value(h1, "M-INC", col="progress") == pytest.approx(0.2)   # (14 − 10) ÷ (30 − 10)
    with db.connect() as c:
        hist = q.value_history(c, H2_2025, "M-INC")
    assert len(hist) == 7
    q2 = hist[hist["period_start"] == date(2025, 4, 1)].sort_values("recorded_at")
    assert q2["value"].tolist() == [15.0, 14.0] and q2["current"].tolist() == [False, True]


def test_progress_increase_decrease_and_capping(db):
    m = _matrix(db, H2_2025)
    # latest quarter ending by 31 Dec 2025 for M-INC is Q3 (22, by sex 12 / 10): (22 − 10) ÷ 20
    assert [_value(m, "M-INC", s) for s in ("all", "female", "male")] == [22, 12, 10]
    assert _value(m, "M-INC", col="progress") == pytest.approx(0.6)
    # M-DEC Q4 2025 = 25, worse than the baseline 20: capped at 0
    assert _value(m, "M-DEC") == 25 and _value(m, "M-DEC", col="progress") == 0.0
    q3 = _matrix(db, Filters(start=date(2025, 7, 1), end=date(2025, 9, 30), today=TODAY))
    # decreasing, baseline 20 → target 10, actual 15: 50 %
    assert _value(q3, "M-DEC", col="progress") == pytest.approx(0.5)
    later = _matrix(db, Filters(start=date(2026, 1, 1), end=TODAY, today=TODAY))
    assert _value(later, "M-INC") == 40 and _value(later, "M-INC", col="progress") == 1.0  # capped at 100 %
    assert _value(m, "M-YN", col="outcome") == "OC1" and pd.isna(_value(m, "M-YN", col="output"))
    assert _value(m, "M-YN", col="light") == "grey"  # never recorded


def test_traffic_lights(db):
    q3 = _matrix(db, Filters(start=date(2025, 7, 1), end=date(2025, 9, 30), today=TODAY))
    # as of 30 Sep 2025: 272 of 729 days elapsed (37.3 %); M-DEC progress 50 % → green
    assert _value(q3, "M-DEC", col="elapsed") == pytest.approx(272 / 729)
    assert _value(q3, "M-DEC", col="light") == "green"
    m = _matrix(db, H2_2025)
    assert _value(m, "M-DEC", col="light") == "red"  # 0 % with 49.9 % of the time gone
    assert q.light(0.35, 0.45) == "green" and q.light(0.30, 0.45) == "amber"
    assert q.light(0.20, 0.45) == "amber" and q.light(0.19, 0.45) == "red" and q.light(None, 0.5) == "grey"
    assert q.progress(15, 20, 10) == pytest.approx(0.5) and q.progress(5, 20, 10) == 1.0 and q.progress(30, 20, 10) == 0.0


def test_series_counts_cumulative_and_rates_per_quarter(db):
    with db.connect() as c:
        va = q.indicator_series(c, H2_2025, "I-VA")
        rp = q.indicator_series(c, Filters(start=date(2026, 1, 1), end=TODAY, today=TODAY), "I-RP")
        manual = q.indicator_series(c, H2_2025, "M-INC")
    total = va[va["sex"] == "all"]
    assert total["quarter"].tolist() == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    assert total["count"].tolist() == [1, 2, 3, 4]          # first services: C1 Q1, C2 Q2, C3 Q3, C4 Q4
    assert va[va["sex"] == "female"]["count"].tolist() == [1, 1, 2, 3]
    assert va[va["sex"] == "male"]["count"].tolist() == [0, 1, 1, 1]
    # one decision per quarter: R1 within, R2 late, R3 within, R4 declined, R5 within, none in Q2 2026
    assert rp["rate"].tolist()[:5] == [100.0, 0.0, 100.0, 0.0, 100.0] and pd.isna(rp["rate"].tolist()[5])
    assert rp["n"].tolist() == [1, 1, 1, 1, 1, 0]
    # manual: one value per quarter recorded, the correction wins, periods ending by 31 Dec 2025
    assert manual[manual["sex"] == "all"]["manual"].tolist() == [12.0, 14.0, 22.0]


def test_small_counts_hidden_for_partners(db):
    partner, k = Viewer("p", "partner"), 5
    with db.connect() as c:
        f = H2_2025.with_(regions=("A",))
        m = protect(q.results_matrix(c, f, "PRJ", "en"), partner, k, counts=["count", "n"], stats={"rate": "n"})
        series = protect(q.indicator_series(c, f, "I-VA"), partner, k, counts=["count", "n"], stats={"rate": "n"})
    assert _value(m, "I-VA", col="count") == "< 5"          # 3 cases
    assert _value(m, "I-RP", col="rate") is None            # over 1 referral
    assert _value(m, "M-INC", col="manual") == 22           # recorded values are not case data
    shown = q.with_progress(m)
    assert pd.isna(_value(shown, "I-VA", col="progress")) and _value(shown, "I-VA", col="light") == "grey"
    safe = q.withhold_small_steps(series, k)
    assert safe[safe["sex"] == "all"]["count"].tolist() == ["< 5"] * 4  # 1, 2, 2, 3


def test_withhold_small_steps():
    def frame(values, sex="all"):
        return pd.DataFrame({"period_end": [date(2025 + i // 4, 3 * (i % 4) + 3, 28) for i in range(len(values))],
                             "sex": sex, "count": values, "n": values, "manual": None, "rate": None})
    out = q.withhold_small_steps(frame([6.0, 8.0, 12.0, 12.0, 13.0, 20.0]), 5)
    # 6 shown; 8 is 2 above → withheld; 12 is 6 above 6 → shown; 12 again (0) shown; 13 withheld; 20 shown (8 above)
    assert [None if pd.isna(v) else v for v in out["count"]] == [6.0, None, 12.0, 12.0, None, 20.0]
    both = pd.concat([frame(["< 5", 9.0], "female"), frame([7.0, 7.0], "male"), frame([9.0, 16.0], "all")])
    out = q.withhold_small_steps(both, 5).reset_index(drop=True)
    # Q1: female hidden → male withheld too (the total would tell it); Q2: female 9 (step 9) and male 7 shown
    male = out[out["sex"] == "male"]["count"].tolist()
    assert pd.isna(male[0]) and male[1] == 7.0
    assert out[out["sex"] == "female"]["count"].tolist() == ["< 5", 9.0]


# ---------------------------------------------------------------- one pass per computation
def test_count_series_is_every_count_trend_and_gives_the_matrix_counts(db):
    for f in (H2_2025, H2_2025.with_(regions=("A",)), Filters(start=date(2026, 1, 1), end=TODAY, today=TODAY)):
        with db.connect() as c:
            counts = q.count_series(c, f, "PRJ")
            full = q.results_matrix(c, f, "PRJ", "en")
            shared = q.fill_counts(q.results_matrix(c, f, "PRJ", "en", counts=False), counts)
            assert sorted(counts["code"].unique()) == ["I-AR", "I-CI", "I-RS", "I-SA", "I-VA"]
            for code in counts["code"].unique():
                mine = counts[counts["code"] == code].drop(columns="code").reset_index(drop=True)
                pd.testing.assert_frame_equal(mine, q.indicator_series(c, f, code))
            empty = q.results_matrix(c, f, "PRJ", "en", counts=False)
        pd.testing.assert_frame_equal(shared, full)
        assert empty.loc[empty["kind"] == "count", "count"].isna().all()


def test_counts_under_a_region_filter(db):
    f = H2_2025.with_(regions=("A",))
    m = _matrix(db, f)
    # region A: C1, C2, C4 identified in 2025; R1, R2, R4 sent; C1's stay; S5 (C4)
    assert _value(m, "I-CI") == 3 and _value(m, "I-RS") == 3 and _value(m, "I-AR") == 1
    assert [_value(m, "I-SA", s) for s in ("all", "female", "male")] == [1, 1, 0]
    with db.connect() as c:
        sa_ = q.count_series(c, f, "PRJ").query("code == 'I-SA'")
        rs = q.indicator_series(c, f, "I-RS")
    assert sa_[sa_["sex"] == "all"]["count"].tolist() == [1, 1, 1, 1]
    assert sa_[sa_["sex"] == "male"]["n"].tolist() == [0, 0, 0, 0]
    assert rs["count"].tolist() == [1, 2, 2, 3]   # R1 Q1, R2 Q2, (R3 is in B), R4 Q4


def test_period_before_the_baseline(db):
    m = _matrix(db, Filters(start=date(2024, 1, 1), end=date(2024, 6, 30), today=TODAY))
    counts = m[m["kind"] == "count"]
    assert counts["count"].isna().all() and (counts["n"] == 0).all() and counts["as_of"].isna().all()
    assert pd.isna(_value(m, "I-RP", col="rate")) and _value(m, "I-RP", col="n") == 0
    assert pd.isna(_value(m, "I-MD", col="rate")) and _value(m, "I-MD", col="n") == 0
    with db.connect() as c:
        assert q.indicator_series(c, Filters(start=date(2024, 1, 1), end=date(2024, 6, 30), today=TODAY), "I-VA").empty
        assert q.count_series(c, Filters(start=date(2024, 1, 1), end=date(2024, 6, 30), today=TODAY)).empty


def test_measure_by_keys(db):
    y2025 = (date(2025, 1, 1), date(2025, 12, 31))
    with db.connect() as c:
        va = q.measure(c, H2_2025, "victims_assisted", *y2025)
        rs_q = q.measure(c, H2_2025, "referrals_sent", *y2025, ("quarter",))
        rs_s = q.measure(c, H2_2025, "referrals_sent", *y2025, ("sex",))
        rp_s = q.measure(c, H2_2025, "referrals_accepted_within_target_pct", *y2025, ("sex",))
        md = q.measure(c, H2_2025, "median_days_to_first_service", *y2025, ("quarter", "sex"))
        none = q.measure(c, H2_2025, "median_days_to_first_service", date(2024, 1, 1), date(2024, 12, 31))
        zero = q.measure(c, H2_2025, "referrals_sent", date(2024, 1, 1), date(2024, 12, 31))
        unknown = q.measure(c, H2_2025, "cases_identified", date(2026, 1, 1), date(2026, 6, 30), ("sex",))
    assert va["value"].tolist() == [4.0] and va["n"].tolist() == [4]
    assert rs_q["quarter"].tolist() == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"] and rs_q["n"].tolist() == [1] * 4
    assert dict(zip(rs_s["sex"], rs_s["n"])) == {"female": 3, "male": 1}
    # decided in 2025: female R1 within, R3 within, R4 declined; male R2 late
    assert dict(zip(rp_s["sex"], rp_s["value"])) == {"female": pytest.approx(200 / 3), "male": 0.0}
    assert list(zip(md["quarter"], md["sex"], md["value"])) == [
        ("2025-Q1", "female", 0.0), ("2025-Q2", "male", 4.0), ("2025-Q3", "female", 10.0), ("2025-Q4", "female", 1.0)]
    assert none.empty and zero["value"].tolist() == [0.0] and zero["n"].tolist() == [0]
    assert dict(zip(unknown["sex"], unknown["n"])) == {"male": 1, "unknown": 1}  # C5, C6


@pytest.mark.parametrize("share", [-1.0, 2.0])
def test_same_answers_however_the_statements_are_written(db, monkeypatch, share):
    """Windows over much of a table are written differently (a table scan on SQLite, cases
    merged first on PostgreSQL): the same answers either way."""
    filters = [H2_2025, H2_2025.with_(regions=("A",)), H2_2025.with_(sex=("female",))]

    def everything():
        with db.connect() as c:
            return [(q.results_matrix(c, f, "PRJ", "en"), q.indicator_series(c, f, "I-RP"),
                     q.indicator_series(c, f, "I-MD"), q.count_series(c, f)) for f in filters]

    before = everything()
    monkeypatch.setattr(q, "SQLITE_SCAN_SHARE", share)
    monkeypatch.setattr(q, "PG_MERGE_SHARE", share)
    after = everything()
    for old, new in zip(before, after):
        for a, b in zip(old, new):
            pd.testing.assert_frame_equal(a, b)
    assert [_value(q.with_progress(after[0][0]), "I-VA", s) for s in ("all", "female", "male")] == [4, 3, 1]


def test_quarter_key_in_sql(db):
    days = [date(2024, 12, 31), date(2025, 1, 1), date(2025, 3, 31), date(2025, 4, 1), date(2025, 6, 30),
            date(2025, 7, 1), date(2025, 9, 30), date(2025, 10, 1), date(2025, 12, 31)]
    with db.connect() as c:
        got = [c.execute(sa.select(q.quarter_key(sa.literal(d, sa.Date), c.dialect.name))).scalar() for d in days]
    assert got == [q.quarter_label(d) for d in days] == [
        "2024-Q4", "2025-Q1", "2025-Q1", "2025-Q2", "2025-Q2", "2025-Q3", "2025-Q3", "2025-Q4", "2025-Q4"]


def test_first_services_from_the_derived_table(db):
    """With the derived case_first_service filled (dashboard.derived), the victims assisted and
    the days to first service read it: the same answers as from the services themselves."""
    if not hasattr(s, "case_first_service"):
        pytest.skip("no derived case_first_service table in this schema")
    filters = [H2_2025, H2_2025.with_(regions=("A",)), H2_2025.with_(sex=("female",))]
    late = (date(2025, 3, 1), date(2025, 12, 31))  # C1 was served before: counted on 1 March (S2)

    def everything(c):
        out = []
        for f in filters:
            out += [q.results_matrix(c, f, "PRJ", "en"), q.count_series(c, f), q.indicator_series(c, f, "I-MD"),
                    q.measure(c, f, "victims_assisted", *late, ("quarter",)),
                    q.measure(c, f, "victims_assisted", date(2025, 3, 2), late[1])]
        return out

    with db.connect() as c:
        plain = everything(c)
        assert q._first_services(c) is None
        c.execute(s.case_first_service.insert().from_select(
            ["case_id", "first_on"],
            sa.select(s.services.c.case_id, sa.func.min(s.services.c.started_on)).group_by(s.services.c.case_id)))
        assert q._first_services(c) is not None
        derived = everything(c)
        c.rollback()
    for a, b in zip(plain, derived):
        pd.testing.assert_frame_equal(a, b)
    by_quarter = derived[3]
    assert by_quarter["quarter"].tolist() == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    assert by_quarter["n"].tolist() == [1, 1, 1, 1]          # C1 (1 Mar), C2, C3, C4
    assert derived[4]["n"].tolist() == [3]                   # from 2 March: C1 has no service left
    assert [_value(q.with_progress(derived[0]), "I-MD")] == [pytest.approx(5.5)]
