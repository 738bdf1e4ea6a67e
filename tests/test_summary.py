"""Summary figures on a hand-built fixture (SQLite and PostgreSQL)."""
from datetime import date, datetime

import pandas as pd
import pytest

from dashboard import derived, schema
from dashboard.filters import Filters
from dashboard.queries import summary

TODAY = date(2026, 4, 15)
# Jan 31 + Feb 28 + Mar 31 = 90 days; previous period: 2025-10-03 .. 2025-12-31
F = Filters(start=date(2026, 1, 1), end=date(2026, 3, 31), today=TODAY, preset="custom")

CASES = [
    # code, region, sex, age band, status, identified on
    ("C1", 1, "female", "9-17", "actual", date(2026, 1, 10)),
    ("C2", 1, "female", "24-26", "possible", date(2026, 2, 5)),
    ("C3", 2, "male", "0-8", "actual", date(2026, 3, 1)),
    ("C4", 1, "male", "30-38", "not_victim", date(2026, 3, 2)),  # not a victim: never counted
    ("C5", 1, "unknown", "unknown", "actual", date(2026, 3, 20)),
    ("C6", 1, "female", "18-20", "actual", date(2025, 12, 20)),  # previous period
    ("C7", 2, "female", "48+", "actual", date(2025, 11, 1)),  # previous period
    ("C8", 1, "female", "21-23", "actual", date(2025, 9, 1)),  # before both periods
]
SERVICES = [
    # case id, type, started on
    (1, "medical", date(2026, 1, 12)),  # C1: 2 days
    (2, "psychosocial", date(2026, 2, 5)),  # C2: 0 days (first)
    (2, "shelter", date(2026, 2, 20)),  # C2: a later service, not the first
    (3, "shelter", date(2026, 3, 11)),  # C3: 10 days
    (4, "medical", date(2026, 3, 3)),  # C4: not a victim
    (6, "food", date(2026, 1, 5)),  # C6: 16 days, first service in the current period
    (7, "medical", date(2025, 11, 4)),  # C7: 3 days, previous period
]


REFERRALS = [
    # code, case id, sent, decided — police → shelter operator, target 3 days
    ("R1", 1, date(2026, 1, 10), date(2026, 1, 12)),  # 2 days: within target
    ("R2", 2, date(2026, 2, 5), date(2026, 2, 15)),  # 10 days: over
    ("R3", 3, date(2026, 3, 1), date(2026, 3, 3)),  # 2 days: within
    ("R4", 7, date(2025, 11, 1), date(2025, 11, 9)),  # previous period, 8 days: over
]


@pytest.fixture(scope="module")
def db(module_engine):
    with module_engine.begin() as c:
        c.execute(schema.regions.insert(), [{"code": "A", "name": "Alpha"}, {"code": "B", "name": "Beta"}])
        c.execute(schema.organisations.insert(), [
            {"code": "NGO", "name": "NGO", "org_type": "NGO", "region_id": 1},
            {"code": "POL", "name": "Police", "org_type": "LawEnforcement", "region_id": 1},
            {"code": "SHO", "name": "Shelter operator", "org_type": "Shelter", "region_id": 1},
        ])
        c.execute(schema.referral_targets.insert(), [{"org_type": "Shelter", "service_type": None, "days": 3}])
        c.execute(schema.cases.insert(), [
            {"code": code, "region_id": reg, "sex": sex, "age_band": band, "trafficking_status": status,
             "identified_on": on, "case_status": "active", "current_stage": "identification"}
            for code, reg, sex, band, status, on in CASES])
        c.execute(schema.services.insert(), [
            {"code": f"S{i}", "case_id": case, "service_type": kind, "provider_org_id": 1, "started_on": on}
            for i, (case, kind, on) in enumerate(SERVICES)])
        c.execute(schema.referrals.insert(), [
            {"code": code, "case_id": case, "from_org_id": 2, "to_org_id": 3, "service_type": "shelter",
             "sent_on": sent, "decided_on": decided, "outcome": "accepted", "days_to_decision": (decided - sent).days}
            for code, case, sent, decided in REFERRALS])
        c.execute(schema.shelters.insert(), [{"code": "SH-A", "name": "Shelter A", "organisation_id": 3, "region_id": 1}])
        c.execute(schema.shelter_capacity.insert(), [{"shelter_id": 1, "valid_from": date(2025, 1, 1), "beds_women": 2}])
        c.execute(schema.shelter_stays.insert(), [{"case_id": 1, "shelter_id": 1, "entered_on": date(2026, 1, 12),
                                                   "exited_on": date(2026, 1, 22)}])
        c.execute(schema.plans.insert(), [{"code": "NAP", "title_fr": "Plan", "title_en": "Plan",
                                           "starts_on": date(2025, 1, 1), "ends_on": date(2027, 12, 31)}])
        c.execute(schema.plan_objectives.insert(), [{"plan_id": 1, "code": "O1", "pillar": "protection",
                                                     "title_fr": "O", "title_en": "O"}])
        c.execute(schema.plan_activities.insert(), [{"objective_id": 1, "code": "A1", "pillar": "protection",
                                                     "title_fr": "A", "title_en": "A", "planned_start": date(2025, 6, 1),
                                                     "planned_end": date(2026, 6, 30), "status": "completed"}])
        c.execute(schema.activity_status_history.insert(), [
            {"activity_id": 1, "status": status, "changed_on": on, "recorded_at": datetime(2026, 4, 1)}
            for status, on in (("in_progress", date(2025, 6, 1)), ("completed", date(2026, 2, 10)))])
        derived.refresh(c)  # as every writer does (the fixture inserts rows by hand)
    return module_engine


def _victims(db, f):
    with db.connect() as c:
        return summary.victims_identified(c, f).iloc[0].to_dict()


def test_victims_identified(db):
    # C1, C2, C3, C5 (C4 is not a victim): 4; female C1, C2: 2; minors C1 (9-17), C3 (0-8): 2
    assert _victims(db, F) == {"total": 4, "women_girls": 2, "minors": 2}
    # previous period: C6, C7, both female adults
    assert _victims(db, F.previous()) == {"total": 2, "women_girls": 2, "minors": 0}
    # region B: C3 only
    assert _victims(db, F.with_(regions=("B",))) == {"total": 1, "women_girls": 0, "minors": 1}
    # female only: C1, C2
    assert _victims(db, F.with_(sex=("female",))) == {"total": 2, "women_girls": 2, "minors": 1}
    # a period with nothing
    assert _victims(db, F.with_(start=date(2020, 1, 1), end=date(2020, 1, 31))) == {"total": 0, "women_girls": 0, "minors": 0}


def test_victims_per_month(db):
    with db.connect() as c:
        df = summary.victims_per_month(c, F)
    assert df.to_dict("records") == [
        {"month": "2026-01", "total": 1, "women_girls": 1, "minors": 1},  # C1
        {"month": "2026-02", "total": 1, "women_girls": 1, "minors": 0},  # C2
        {"month": "2026-03", "total": 2, "women_girls": 0, "minors": 1},  # C3, C5
    ]


def test_first_assistance(db):
    with db.connect() as c:
        now = summary.first_assistance(c, F).iloc[0]
        before = summary.first_assistance(c, F.previous()).iloc[0]
        beta = summary.first_assistance(c, F.with_(regions=("B",))).iloc[0]
        none = summary.first_assistance(c, F.with_(start=date(2020, 1, 1), end=date(2020, 1, 31))).iloc[0]
    # first services in the period: C1 2, C2 0, C3 10, C6 16 → sorted 0, 2, 10, 16
    # median = (2 + 10) / 2 = 6; p90: h = 3 × 0.9 = 2.7 → 10 + 0.7 × (16 − 10) = 14.2
    assert now["n"] == 4 and now["median"] == 6 and now["p90"] == pytest.approx(14.2)
    # previous: C7 3 days
    assert before["n"] == 1 and before["median"] == 3
    assert beta["n"] == 1 and beta["median"] == 10
    assert none["n"] == 0 and pd.isna(none["median"])


def test_first_assistance_per_month(db):
    with db.connect() as c:
        df = summary.first_assistance_per_month(c, F)
    # January: C1 2 and C6 16 → median 9; February: C2 0; March: C3 10
    assert df["month"].tolist() == ["2026-01", "2026-02", "2026-03"]
    assert df["n"].tolist() == [2, 1, 1]
    assert df["median"].tolist() == [9, 0, 10]


def test_months_of_the_period():
    got = [(key, m.start, m.end) for key, m in summary.months(F.with_(start=date(2026, 1, 15), end=date(2026, 3, 3)))]
    assert got == [("2026-01", date(2026, 1, 15), date(2026, 1, 31)), ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
                   ("2026-03", date(2026, 3, 1), date(2026, 3, 3))]


def test_headline(db):
    with db.connect() as c:
        row = summary.headline(c, F).iloc[0].to_dict()
    assert (row["victims"], row["women_girls"], row["minors"]) == (4, 2, 2)
    assert (row["victims_prev"], row["women_girls_prev"], row["minors_prev"]) == (2, 2, 0)
    # decided in the period: R1, R2, R3, two within 3 days → 2/3; before: R4 over → 0/1
    assert row["within_target_n"] == 3 and row["within_target"] == pytest.approx(2 / 3)
    assert row["within_target_n_prev"] == 1 and row["within_target_prev"] == 0
    assert row["first_assist"] == 6 and row["first_assist_n"] == 4
    assert row["first_assist_prev"] == 3 and row["first_assist_n_prev"] == 1
    # 2 beds × 90 nights = 180 bed-nights; the stay 12–22 Jan uses 10 of them; before: none used
    assert row["utilisation"] == pytest.approx(10 / 180) and row["utilisation_n"] == 1
    assert row["utilisation_prev"] == 0 and row["utilisation_n_prev"] == 0


def test_monthly_trends(db):
    with db.connect() as c:
        within = summary.within_target_per_month(c, F)
        util = summary.utilisation_per_month(c, F)
        done = summary.completed_per_month(c, F)
        pairs = summary.handoffs_per_month(c, F, (("POL", "SHO"),))
        none = summary.handoffs_per_month(c, F, ())
    assert within.to_dict("records") == [
        {"month": "2026-01", "decided": 1, "within_target": 1, "share": 1.0},
        {"month": "2026-02", "decided": 1, "within_target": 0, "share": 0.0},
        {"month": "2026-03", "decided": 1, "within_target": 1, "share": 1.0},
    ]
    # January: 31 nights × 2 beds = 62, 10 used; February 28 × 2 = 56; March 31 × 2 = 62
    assert util["month"].tolist() == ["2026-01", "2026-02", "2026-03"]
    assert util["bed_nights_available"].tolist() == [62, 56, 62]
    assert util["bed_nights_used"].tolist() == [10, 0, 0]
    assert util["utilisation"].tolist() == pytest.approx([10 / 62, 0, 0])
    assert util["people"].tolist() == [1, 0, 0]
    # completed on 10 Feb: not yet at the end of January
    assert done.to_dict("records") == [{"month": "2026-01", "completed": 0, "delayed": 0},
                                       {"month": "2026-02", "completed": 1, "delayed": 0},
                                       {"month": "2026-03", "completed": 1, "delayed": 0}]
    assert pairs[["month", "n", "median"]].to_dict("records") == [
        {"month": "2026-01", "n": 1, "median": 2.0}, {"month": "2026-02", "n": 1, "median": 10.0},
        {"month": "2026-03", "n": 1, "median": 2.0}]
    assert none.empty


def test_first_assistance_from_the_services_is_the_same(db):
    """Without the derived case_first_service (a database never refreshed), the figures come
    from the services: the same answers."""
    filters = (F, F.previous(), F.with_(regions=("B",)), F.with_(sex=("female",)))
    with db.connect() as c:
        fast = [summary.first_assistance(c, f) for f in filters] + [summary.first_assistance_per_month(c, F)]
    with db.connect() as c:
        trans = c.begin()
        c.execute(schema.case_first_service.delete())
        slow = [summary.first_assistance(c, f) for f in filters] + [summary.first_assistance_per_month(c, F)]
        trans.rollback()
    for a, b in zip(fast, slow):
        pd.testing.assert_frame_equal(a, b)
    assert fast[3]["n"].iloc[0] == 3 and fast[3]["median"].iloc[0] == 2  # C1 2, C2 0, C6 16


def test_monthly_trends_in_one_region(db):
    b = F.with_(regions=("B",))
    with db.connect() as c:
        within = summary.within_target_per_month(c, b)
        pairs = summary.handoffs_per_month(c, b, (("POL", "SHO"), ("POL", "NOPE"), ("SHO", "POL")))
        whole = summary.handoffs_per_month(c, F, (("SHO", "POL"), ("POL", "SHO")))
    # region B: C3 only, R3 decided 3 March in 2 days (target 3)
    assert within["month"].tolist() == ["2026-01", "2026-02", "2026-03"]
    assert within["share"].isna().tolist() == [True, True, False] and within["share"].iloc[2] == 1.0
    assert within["decided"].tolist() == [0, 0, 1] and within["within_target"].tolist() == [0, 0, 1]
    assert pairs.to_dict("records") == [{"from_org": "POL", "to_org": "SHO", "month": "2026-03", "n": 1, "median": 2.0}]
    # unknown pairs and pairs without a decision are absent; months in order
    assert whole["month"].tolist() == ["2026-01", "2026-02", "2026-03"]
    assert set(zip(whole["from_org"], whole["to_org"])) == {("POL", "SHO")}
