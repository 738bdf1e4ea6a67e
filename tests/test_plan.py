"""Action plan queries on a hand-built plan: pillar summaries, delayed list, budget, history."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from dashboard import schema as s
from dashboard.filters import Filters
from dashboard.queries import plan as q

TODAY = date(2026, 6, 30)
F = Filters(start=date(2026, 1, 1), end=TODAY, today=TODAY)

# code, pillar, lead, region, start, end, planned, spent, status
ACTIVITIES = [
    ("PV1", "prevention", 1, None, date(2025, 1, 1), date(2026, 3, 31), 100, 80, "completed"),
    ("PV2", "prevention", 1, 1, date(2025, 6, 1), date(2026, 5, 31), 100, 50, "in_progress"),   # past due: delayed
    ("PV3", "prevention", 2, 2, date(2026, 2, 1), date(2026, 12, 31), 200, 20, "in_progress"),  # region B, on track
    ("PR1", "protection", 2, None, date(2024, 1, 1), date(2024, 12, 31), 300, 100, "delayed"),  # still open: counts
    ("PR2", "protection", 1, 1, date(2026, 1, 1), date(2027, 6, 30), 50, None, "not_started"),
    ("PR3", "protection", 1, None, date(2026, 3, 1), date(2026, 9, 30), 80, 10, "delayed"),     # reported, not due
    ("PS1", "prosecution", 2, None, date(2025, 1, 1), date(2026, 2, 28), 60, 5, "cancelled"),
    ("PS2", "prosecution", 2, None, date(2024, 1, 1), date(2025, 6, 30), 40, 40, "completed"),  # closed before period
    ("PT1", "partnership", 1, None, date(2027, 1, 1), date(2027, 12, 31), 100, None, "not_started"),  # after period
    ("PT2", "partnership", 1, None, date(2026, 1, 15), date(2026, 6, 29), None, None, "in_progress"),  # 1 day late
]
# activity code, status, changed_on, recorded_at
HISTORY = [
    ("PV1", "not_started", date(2024, 12, 1), datetime(2024, 12, 1, 9)),
    ("PV1", "in_progress", date(2025, 1, 10), datetime(2025, 1, 10, 9)),
    ("PV1", "completed", date(2026, 3, 15), datetime(2026, 3, 15, 9)),
    ("PV2", "in_progress", date(2025, 6, 5), datetime(2025, 6, 5, 9)),
    ("PR1", "in_progress", date(2024, 2, 1), datetime(2024, 2, 1, 9)),
    ("PR1", "delayed", date(2025, 1, 15), datetime(2025, 1, 15, 9)),
    ("PR3", "in_progress", date(2026, 3, 5), datetime(2026, 3, 5, 9)),
    ("PR3", "in_progress", date(2026, 5, 20), datetime(2026, 5, 20, 9)),
    ("PR3", "delayed", date(2026, 5, 20), datetime(2026, 5, 20, 10)),  # same day, recorded later: wins
    ("PS1", "cancelled", date(2026, 2, 10), datetime(2026, 2, 10, 9)),
]


@pytest.fixture(scope="module")
def db(module_engine):
    with module_engine.begin() as c:
        c.execute(s.regions.insert(), [{"code": "A", "name": "Alpha"}, {"code": "B", "name": "Beta"}])
        c.execute(s.organisations.insert(), [
            {"code": "O1", "name": "Org One", "org_type": "NGO", "region_id": 1},
            {"code": "O2", "name": "Org Two", "org_type": "LawEnforcement", "region_id": 2},
        ])
        c.execute(s.plans.insert(), [{"code": "P", "title_fr": "Plan", "title_en": "Plan", "starts_on": date(2024, 1, 1),
                                      "ends_on": date(2027, 12, 31), "currency": "XOF"}])
        c.execute(s.plan_objectives.insert(), [
            {"plan_id": 1, "code": f"OB-{p}", "pillar": p, "title_fr": f"Objectif {p}", "title_en": f"Objective {p}"}
            for p in ("prevention", "protection", "prosecution", "partnership")])
        objective = {"prevention": 1, "protection": 2, "prosecution": 3, "partnership": 4}
        c.execute(s.plan_activities.insert(), [
            {"code": code, "objective_id": objective[pillar], "pillar": pillar, "title_fr": f"Activité {code}",
             "title_en": f"Activity {code}", "lead_org_id": lead, "region_id": region, "planned_start": start,
             "planned_end": end, "budget_planned": None if planned is None else Decimal(planned),
             "budget_spent": None if spent is None else Decimal(spent), "status": status}
            for code, pillar, lead, region, start, end, planned, spent, status in ACTIVITIES])
        c.execute(s.activity_partners.insert(), [{"activity_id": 1, "organisation_id": 2}])
        ids = {code: i + 1 for i, (code, *_rest) in enumerate(ACTIVITIES)}
        c.execute(s.activity_status_history.insert(), [
            {"activity_id": ids[code], "status": st, "changed_on": on, "evidence_note": f"note {code} {st}",
             "recorded_by": "tester", "recorded_at": at} for code, st, on, at in HISTORY])
    return module_engine


def _run(db, fn, *args, f=F, **kwargs):
    with db.connect() as c:
        return fn(c, f, *args, **kwargs)


def test_pillar_summary_all_regions(db):
    df = _run(db, q.pillar_summary).set_index("pillar")
    assert list(df.index) == ["prevention", "protection", "prosecution", "partnership"]
    # prevention: PV1 completed, PV2 delayed (due 31 May), PV3 on track
    # protection: PR1 delayed (open since 2024), PR2 not started, PR3 on track (reported delayed, not yet due)
    # prosecution: PS1 cancelled (PS2 closed before the period); partnership: PT2 delayed (PT1 starts in 2027)
    assert df.loc["prevention", ["total", "completed", "on_track", "delayed", "not_started", "cancelled"]].tolist() == [3, 1, 1, 1, 0, 0]
    assert df.loc["protection", ["total", "completed", "on_track", "delayed", "not_started", "cancelled"]].tolist() == [3, 0, 1, 1, 1, 0]
    assert df.loc["prosecution", ["total", "cancelled"]].tolist() == [1, 1]
    assert df.loc["partnership", ["total", "delayed"]].tolist() == [1, 1]
    assert df["reported_delayed"].tolist() == [0, 1, 0, 0]
    # shares delayed: 1/3, 1/3, no activity once cancelled ones are set aside, 1/1
    assert df["rag"].tolist() == ["red", "red", "grey", "red"]


def test_pillar_summary_by_region_and_selection(db):
    # region A: its activities plus the national ones (PV3 in B left out)
    a = _run(db, q.pillar_summary, f=F.with_(regions=("A",))).set_index("pillar")
    assert a.loc["prevention", ["total", "completed", "delayed"]].tolist() == [2, 1, 1]
    # region B: PV1 (national) and PV3; PV2 (region A) left out → no delay → green
    b = _run(db, q.pillar_summary, f=F.with_(regions=("B",))).set_index("pillar")
    assert b.loc["prevention", ["total", "completed", "on_track", "delayed"]].tolist() == [2, 1, 1, 0]
    assert b.loc["prevention", "rag"] == "green"
    assert b.loc["protection", ["total", "delayed", "on_track"]].tolist() == [2, 1, 1]  # PR1, PR3 (national)
    # page filters: lead O2 → PV3, PR1, PS1
    o2 = _run(db, q.pillar_summary, q.Selection(leads=("O2",))).set_index("pillar")
    assert o2["total"].tolist() == [1, 1, 1, 0] and o2.loc["partnership", "rag"] == "grey"
    only = _run(db, q.pillar_summary, q.Selection(pillars=("protection",)))
    assert only["pillar"].tolist() == ["protection"] and int(only.at[0, "total"]) == 3
    in_progress = _run(db, q.timeline, q.Selection(statuses=("in_progress",)), "en")
    assert in_progress["code"].tolist() == ["PT2", "PV2", "PV3"]


@pytest.mark.parametrize("delayed, total, cancelled, expected", [
    (0, 10, 0, "green"), (1, 11, 0, "green"),   # 9.1 % < 10 %
    (1, 10, 0, "amber"),                        # exactly 10 %
    (2, 9, 1, "red"),                           # 2 / 8 = exactly 25 %
    (0, 1, 1, "grey"), (0, 0, 0, "grey"),
])
def test_rag_thresholds(delayed, total, cancelled, expected):
    assert q.rag(delayed, total, cancelled) == expected


def test_delayed_list_with_days_late(db):
    df = _run(db, q.delayed_activities, None, "en")
    assert df["code"].tolist() == ["PR1", "PV2", "PT2"]  # by due date
    # 30 Jun 2026 − 31 Dec 2024 = 365 + 181 = 546; − 31 May 2026 = 30; − 29 Jun 2026 = 1
    assert df["days_late"].tolist() == [546, 30, 1]
    assert df["lead"].tolist() == ["Org Two", "Org One", "Org One"]
    assert df["region"].tolist()[1] == "Alpha" and df["region"].isna().tolist() == [True, False, True]
    assert df["title"].tolist()[0] == "Activity PR1"
    # the same count as the definition on the home page (due date passed, not completed or cancelled)
    from dashboard.queries.home import activities_delayed
    with db.connect() as c:
        assert activities_delayed(c, F) == 3


def test_budget_by_pillar(db):
    df = _run(db, q.budget_by_pillar)
    # partnership: PT2 has no planned budget → no row
    assert df["pillar"].tolist() == ["prevention", "protection", "prosecution"]
    # prevention 100+100+200 planned, 80+50+20 spent; protection 300+50+80, 100+0+10; prosecution PS1 60, 5
    assert df["planned"].tolist() == [400.0, 430.0, 60.0]
    assert df["spent"].tolist() == [150.0, 110.0, 5.0]
    assert df["execution"].tolist() == pytest.approx([150 / 400, 110 / 430, 5 / 60])


def test_status_over_time_from_history(db):
    df = _run(db, q.status_over_time)
    got = {(m, st): n for m, st, n in df.itertuples(index=False)}
    expected = {
        # 31 Jan: PV1, PV2 in progress; PR1 delayed (PS1 and PR3 have no entry yet)
        ("2026-01", "in_progress"): 2, ("2026-01", "delayed"): 1,
        # 28 Feb: PS1 cancelled on 10 Feb
        ("2026-02", "in_progress"): 2, ("2026-02", "delayed"): 1, ("2026-02", "cancelled"): 1,
        # 31 Mar: PV1 completed on 15 Mar; PR3 in progress since 5 Mar
        ("2026-03", "completed"): 1, ("2026-03", "in_progress"): 2, ("2026-03", "delayed"): 1, ("2026-03", "cancelled"): 1,
        ("2026-04", "completed"): 1, ("2026-04", "in_progress"): 2, ("2026-04", "delayed"): 1, ("2026-04", "cancelled"): 1,
        # 31 May: PR3 delayed (two entries on 20 May: the later recorded wins)
        ("2026-05", "completed"): 1, ("2026-05", "in_progress"): 1, ("2026-05", "delayed"): 2, ("2026-05", "cancelled"): 1,
        ("2026-06", "completed"): 1, ("2026-06", "in_progress"): 1, ("2026-06", "delayed"): 2, ("2026-06", "cancelled"): 1,
    }
    assert got == expected
    # region B: PV2 (region A) and its history left out
    b = _run(db, q.status_over_time, f=F.with_(regions=("B",)))
    assert int(b[(b["month"] == "2026-01") & (b["status"] == "in_progress")]["activities"].sum()) == 1


def test_period_overlap_keeps_open_late_activities(db):
    f = Filters(start=date(2025, 1, 1), end=date(2025, 3, 31), today=TODAY)
    # PV1 and PS1 run through Q1 2025; PS2 ends June 2025; PR1 ended in 2024 but is still open
    assert _run(db, q.activity_options, None, "en", f=f)["code"].tolist() == ["PR1", "PS1", "PS2", "PV1"]


def test_activity_detail_and_history(db):
    d = _run(db, q.activity_detail, "PV2", "en").iloc[0]
    assert (d["lead"], d["region"], d["status"], d["state"], d["days_late"]) == ("Org One", "Alpha", "in_progress", "delayed", 30)
    assert d["objective"] == "Objective prevention" and d["plan_start"] == date(2024, 1, 1)
    one = _run(db, q.activity_detail, "PV1", "fr").iloc[0]
    assert one["partners"] == "Org Two" and one["title"] == "Activité PV1" and one["days_late"] is None
    h = _run(db, q.activity_history, "PR3")
    assert h["status"].tolist() == ["delayed", "in_progress", "in_progress"]
    assert h["changed_on"].tolist() == [date(2026, 5, 20), date(2026, 5, 20), date(2026, 3, 5)]
    assert _run(db, q.activity_detail, "NOPE", "en").empty


def test_by_lead_and_empty_selection(db):
    df = _run(db, q.by_lead)
    got = {(lead, st): n for lead, st, n in df.itertuples(index=False)}
    # Org One: PV1 completed, PV2 delayed, PR2 not started, PR3 on track, PT2 delayed
    # Org Two: PV3 on track, PR1 delayed, PS1 cancelled
    assert got == {("Org One", "completed"): 1, ("Org One", "delayed"): 2, ("Org One", "not_started"): 1,
                   ("Org One", "on_track"): 1, ("Org Two", "on_track"): 1, ("Org Two", "delayed"): 1,
                   ("Org Two", "cancelled"): 1}
    none = q.Selection(leads=("NOBODY",))
    assert int(_run(db, q.pillar_summary, none)["total"].sum()) == 0
    assert _run(db, q.delayed_activities, none).empty and _run(db, q.budget_by_pillar, none).empty
    assert _run(db, q.status_over_time, none).empty
