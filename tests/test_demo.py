"""The demo data generator: invariants of what it writes, on both dialects."""
from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from dashboard import demo, schema
from dashboard.domain import ACTIVITY_STATUSES, EXIT_DESTINATIONS, JUSTICE_STEPS, STAGES, referral_intervals
from dashboard.profiles import load_profile

TODAY = date(2025, 6, 15)
N = 300
SEED = 7


@pytest.fixture(scope="module")
def generated(module_engine):
    calls = []
    result = demo.generate(module_engine, load_profile("mali"), cases=N, seed=SEED, today=TODAY,
                           progress=lambda label, fraction: calls.append((label, fraction)))
    return module_engine, result, calls


def rows(engine, table, *order):
    with engine.connect() as conn:
        return conn.execute(sa.select(table).order_by(*(order or table.primary_key.columns))).mappings().all()


def dump(engine) -> dict:
    out = {}
    with engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            cols = list(table.columns)
            out[table.name] = [tuple(r) for r in conn.execute(sa.select(*cols).order_by(*cols))]
    return out


def test_counts_and_cases(generated):
    engine, result, calls = generated
    cases = rows(engine, schema.cases)
    assert result["cases"] == len(cases) == N
    for key in ("referrals", "services", "stage_events", "shelter_stays", "case_exploitation"):
        assert result[key] == len(rows(engine, schema.metadata.tables[key])) > 0
    female = sum(c["sex"] == "female" for c in cases) / N
    minors = sum(bool(c["is_minor"]) for c in cases) / N
    assert 0.6 <= female <= 0.9
    assert 0.2 <= minors <= 0.4
    assert all(c["source"] == "demo" for c in cases)
    assert all(re.fullmatch(r"ML-\d{4}-\d{6}", c["code"]) and c["code"][3:7] == str(c["identified_on"].year)
               for c in cases)
    assert all(TODAY - timedelta(days=5 * 366) <= c["identified_on"] <= TODAY for c in cases)
    assert all(c["is_foreign"] == (c["nationality"] != "ML") for c in cases)
    assert 0.05 < sum(c["is_foreign"] for c in cases) / N < 0.4
    assert all(c["person_hash"] is None for c in cases)  # no identity at all
    with engine.connect() as conn:
        meta = dict(conn.execute(sa.select(schema.meta.c.key, schema.meta.c.value)).all())
    assert meta["demo"] == "true" and meta["seed"] == str(SEED) and meta["demo_cases"] == str(N)
    assert meta["generated_at"] == TODAY.isoformat() and meta["country"] == "mali"
    fractions = [f for _, f in calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_stages_in_order_and_case_state(generated):
    engine, *_ = generated
    cases = {c["id"]: c for c in rows(engine, schema.cases)}
    orgs = {o["id"] for o in rows(engine, schema.organisations)}
    events = defaultdict(list)
    for e in rows(engine, schema.stage_events):
        events[e["case_id"]].append(e)
        assert e["organisation_id"] in orgs
        assert e["occurred_on"] <= TODAY
    assert set(events) == set(cases)
    for cid, evs in events.items():
        by_stage = {e["stage"]: e for e in evs}
        assert len(by_stage) == len(evs)  # each stage once
        for track in (STAGES, JUSTICE_STEPS):
            dates = [by_stage[s]["occurred_on"] for s in track if s in by_stage]
            assert dates == sorted(dates), (cid, track)
            reached = [s for s in track if s in by_stage and s != "closed"]
            assert reached == list(track[:len(reached)]), (cid, reached)  # no stage skipped
        c = cases[cid]
        chain = [s for s in STAGES if s in by_stage]
        assert c["current_stage"] == chain[-1]
        assert by_stage["identification"]["occurred_on"] == c["identified_on"]
        assert by_stage["identification"]["organisation_id"] == c["identified_by_org_id"]
        assert (c["case_status"] in ("closed", "closed_referred")) == ("closed" in by_stage)
        assert c["owner_org_id"] == by_stage[chain[-1]]["organisation_id"]
        if "judgement" in by_stage:
            assert by_stage["judgement"]["outcome"] in ("conviction", "acquittal", "dismissed")
    stages = Counter(e["stage"] for evs in events.values() for e in evs)
    assert all(stages[s] > 0 for s in STAGES + JUSTICE_STEPS)
    # recent cases have come less far
    old = [c for c in cases.values() if c["identified_on"] < TODAY - timedelta(days=730)]
    new = [c for c in cases.values() if c["identified_on"] >= TODAY - timedelta(days=90)]
    closed_share = lambda cs: sum(c["current_stage"] == "closed" for c in cs) / len(cs)  # noqa: E731
    assert closed_share(old) > closed_share(new)


def test_referrals(generated):
    engine, result, _ = generated
    refs = rows(engine, schema.referrals)
    orgs = {o["id"]: o for o in rows(engine, schema.organisations)}
    assert len({r["code"] for r in refs}) == len(refs)
    for r in refs:
        assert r["from_org_id"] in orgs and r["to_org_id"] in orgs and r["from_org_id"] != r["to_org_id"]
        assert r["sent_on"] <= TODAY
        if r["acknowledged_on"] is not None:
            assert r["sent_on"] <= r["acknowledged_on"] <= TODAY
        if r["decided_on"] is not None:
            assert r["acknowledged_on"] is not None and r["acknowledged_on"] <= r["decided_on"] <= TODAY
            assert r["outcome"] in ("accepted", "declined")
        else:
            assert r["outcome"] is None and r["first_service_on"] is None
        assert (r["decline_reason"] is not None) == (r["outcome"] == "declined")
        if r["first_service_on"] is not None:
            assert r["outcome"] == "accepted" and r["decided_on"] <= r["first_service_on"] <= TODAY
        assert {k: r[k] for k in ("days_to_acknowledge", "days_to_decision", "days_to_first_service")} == \
            referral_intervals(r["sent_on"], r["acknowledged_on"], r["decided_on"], r["first_service_on"])
    outcomes = Counter(r["outcome"] for r in refs)
    assert outcomes["declined"] >= 1
    assert 0.03 < outcomes["declined"] / (outcomes["declined"] + outcomes["accepted"]) < 0.2
    assert outcomes[None] >= 1  # pending
    # overdue against the targets of the receiving organisation type
    targets = {(t["org_type"], t["service_type"]): t["days"] for t in rows(engine, schema.referral_targets)}
    overdue = [r for r in refs if r["decided_on"] is None and (TODAY - r["sent_on"]).days > targets.get(
        (orgs[r["to_org_id"]]["org_type"], r["service_type"]),
        targets.get((orgs[r["to_org_id"]]["org_type"], None), 10**6))]
    assert overdue
    # a slow pair, and most pairs quick
    by_pair = defaultdict(list)
    for r in refs:
        if r["days_to_decision"] is not None:
            by_pair[(r["from_org_id"], r["to_org_id"])].append(r["days_to_decision"])
    medians = {p: statistics.median(v) for p, v in by_pair.items() if len(v) >= 5}
    assert max(medians.values()) >= 10
    assert statistics.median(medians.values()) <= 5
    # loops: referrals back to the police from social services, NGOs or shelters
    police = {i for i, o in orgs.items() if o["org_type"] == "LawEnforcement"}
    assert any(r["to_org_id"] in police and r["from_org_id"] not in police for r in refs)
    assert result["slow_pairs"]


def test_services(generated):
    engine, *_ = generated
    refs = {r["id"]: r for r in rows(engine, schema.referrals)}
    services = rows(engine, schema.services)
    assert len({s["code"] for s in services}) == len(services)
    by_ref = {s["referral_id"]: s for s in services if s["referral_id"] is not None}
    for rid, r in refs.items():
        if r["first_service_on"] is not None:
            s = by_ref[rid]
            assert (s["started_on"], s["provider_org_id"], s["service_type"]) == \
                (r["first_service_on"], r["to_org_id"], r["service_type"])
        else:
            assert rid not in by_ref
    assert any(s["referral_id"] is None for s in services)
    assert all(s["ended_on"] is None or s["started_on"] <= s["ended_on"] <= TODAY for s in services)


def _category(case) -> str:
    adult = not case["is_minor"]
    return ("women" if adult else "girls") if case["sex"] == "female" else ("men" if adult else "boys")


def test_shelter_occupancy_within_capacity_except_the_planted_nights(generated):
    engine, result, _ = generated
    cases = {c["id"]: c for c in rows(engine, schema.cases)}
    shelters = {s["id"]: s for s in rows(engine, schema.shelters)}
    capacity = defaultdict(list)
    for p in rows(engine, schema.shelter_capacity):
        capacity[p["shelter_id"]].append(p)
    stays = rows(engine, schema.shelter_stays)
    assert stays
    occ = Counter()
    for s in stays:
        end = s["exited_on"] or TODAY
        assert s["entered_on"] <= end <= TODAY
        if s["exited_on"] is None:
            assert s["exit_destination"] is None
        else:
            assert s["exit_destination"] in EXIT_DESTINATIONS
        cat = _category(cases[s["case_id"]])
        for i in range((end - s["entered_on"]).days):
            occ[(s["shelter_id"], cat, s["entered_on"] + timedelta(days=i))] += 1

    def beds(shelter_id, cat, night):
        for p in capacity[shelter_id]:
            if p["valid_from"] <= night and (p["valid_to"] is None or night < p["valid_to"]):
                return p[f"beds_{cat}"]
        return 0

    over = sorted({(k[0], k[2]) for k, n in occ.items() if n > beds(*k)})
    code, first, last = result["planted_over_capacity"]
    planted_nights = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    assert 3 <= len(planted_nights) <= 5 and last < TODAY
    sid = next(i for i, s in shelters.items() if s["code"] == code)
    assert over == [(sid, n) for n in planted_nights]
    # nobody is in two shelters at once, and nobody stays on after their case is closed
    by_case = defaultdict(list)
    for s in stays:
        by_case[s["case_id"]].append((s["entered_on"], s["exited_on"] or TODAY))
    for spans in by_case.values():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    with engine.connect() as conn:
        closed = dict(conn.execute(sa.select(schema.stage_events.c.case_id, schema.stage_events.c.occurred_on)
                                   .where(schema.stage_events.c.stage == "closed")).all())
    planted_cases = {s["case_id"] for s in stays if s["shelter_id"] == sid and s["entered_on"] == first}
    for s in stays:
        if s["case_id"] in closed and s["case_id"] not in planted_cases:
            assert s["exited_on"] is not None and s["exited_on"] <= closed[s["case_id"]]
    # long stays and open stays exist
    long_days = load_profile("mali").review.long_stay_days
    assert any(((s["exited_on"] or TODAY) - s["entered_on"]).days > long_days for s in stays)
    assert any(s["exited_on"] is None for s in stays)
    # each stay follows an accepted referral to the shelter's operator, starting that day
    accepted = {(r["case_id"], r["to_org_id"], r["first_service_on"]) for r in rows(engine, schema.referrals)
                if r["outcome"] == "accepted"}
    assert all((s["case_id"], shelters[s["shelter_id"]]["organisation_id"], s["entered_on"]) in accepted
               for s in stays)


@pytest.fixture(scope="module")
def thousands(db_factory):
    """3,000 cases (SQLite): enough to fill shelters and to show every reason of the agenda."""
    engine = db_factory.engine("sqlite")
    demo.generate(engine, load_profile("mali"), cases=3000, seed=SEED, today=TODAY)
    yield engine
    db_factory.drop(engine)


def test_shelters_decline_when_full(thousands):
    # 300 cases never fill a shelter; a few thousand do
    with thousands.connect() as conn:
        r = schema.referrals
        n = conn.execute(sa.select(sa.func.count()).where(
            r.c.decline_reason == "no_capacity", r.c.service_type == "shelter")).scalar()
    assert n > 0


def test_case_review_agenda_has_every_reason_in_plausible_numbers(thousands):
    from dashboard.filters import Filters
    from dashboard.privacy import Viewer
    from dashboard.queries import review

    with thousands.connect() as conn:
        status = Counter(conn.execute(sa.select(schema.cases.c.case_status)).scalars())
        got = review.agenda_counts(conn, Filters(start=TODAY - timedelta(days=364), end=TODAY, today=TODAY),
                                   Viewer("committee", "committee"), load_profile("mali").review)
    # a minority open (recent cases, services under way, a few forgotten), most closed
    open_share = (status["active"] + status["follow_up"]) / 3000
    assert 0.04 <= open_share <= 0.2 and status["follow_up"] > 0 and status["closed_referred"] > 0
    # every reason listed, none for more than a few per cent of the cases
    assert all(got[reason] > 0 for reason in review.REASONS), got
    assert got["all"] <= 0.05 * 3000 and got["no_movement"] <= 0.03 * 3000, got


def test_cases_are_closed_after_their_last_activity(generated):
    engine, result, _ = generated
    cases = {c["id"]: c for c in rows(engine, schema.cases)}
    refs = rows(engine, schema.referrals)
    justice = {r["id"] for r in refs if r["reason"] == "other"}  # complaint and prosecution: their own track
    events = defaultdict(dict)
    for e in rows(engine, schema.stage_events):
        events[e["case_id"]][e["stage"]] = e["occurred_on"]
    code, first, _last = result["planted_over_capacity"]
    with engine.connect() as conn:
        sid = conn.execute(sa.select(schema.shelters.c.id).where(schema.shelters.c.code == code)).scalar_one()
    planted = {s["case_id"] for s in rows(engine, schema.shelter_stays)
               if s["shelter_id"] == sid and s["entered_on"] == first}
    activity = defaultdict(list)  # the dates of the assistance, per case
    under_way = set()  # cases with a referral undecided or a service not ended (today)
    for r in refs:
        if r["id"] not in justice:
            activity[r["case_id"]] += [r["sent_on"], r["acknowledged_on"], r["decided_on"], r["first_service_on"]]
            if r["decided_on"] is None or (r["outcome"] == "accepted" and r["first_service_on"] is None):
                under_way.add(r["case_id"])
    for s in rows(engine, schema.services):
        if s["referral_id"] not in justice:
            activity[s["case_id"]] += [s["started_on"], s["ended_on"]]
            if s["ended_on"] is None:
                under_way.add(s["case_id"])
    for cid, c in cases.items():
        closed = events[cid].get("closed")
        if c["case_status"] == "closed" and cid not in planted:
            assert cid not in under_way, c["code"]
            last = max([d for d in activity[cid] if d is not None] + [c["identified_on"]])
            assert last + timedelta(days=3) <= closed, (c["code"], last, closed)
        elif c["case_status"] == "closed_referred":  # referred on once return and reintegration began
            assert events[cid]["return_reintegration"] + timedelta(days=3) <= closed, c["code"]
    # old cases are closed (but the few forgotten for longer than two years)
    old = [c for c in cases.values() if c["identified_on"] < TODAY - timedelta(days=730)]
    assert sum(c["case_status"] in ("closed", "closed_referred") for c in old) >= 0.9 * len(old)


def test_plan_activities(generated):
    engine, *_ = generated
    acts = {a["id"]: a for a in rows(engine, schema.plan_activities)}
    assert set(a["status"] for a in acts.values()) == set(ACTIVITY_STATUSES)
    assert sum(a["status"] == "cancelled" for a in acts.values()) == 1
    assert any(a["planned_end"] < TODAY and a["status"] not in ("completed", "cancelled") for a in acts.values())
    assert all(a["planned_start"] <= TODAY for a in acts.values() if a["status"] != "not_started")
    assert all(a["budget_spent"] is not None and 0 <= a["budget_spent"] <= a["budget_planned"] * 2
               for a in acts.values())
    history = defaultdict(list)
    for h in rows(engine, schema.activity_status_history, schema.activity_status_history.c.id):
        history[h["activity_id"]].append(h)
    assert set(history) == set(acts)
    for aid, hs in history.items():
        assert hs[0]["status"] == "not_started"
        assert hs[-1]["status"] == acts[aid]["status"]
        days = [h["changed_on"] for h in hs]
        assert days == sorted(days) and days[-1] <= TODAY
        assert all(h["recorded_by"] == "demo" and h["evidence_note"] for h in hs)
    notes = " ".join(h["evidence_note"] for hs in history.values() for h in hs)
    assert re.search(r"[éèà]", notes) and re.search(r"\b(Completed|Delayed|Cancelled|First|Contract)\b", notes)


def test_indicator_values(generated):
    engine, *_ = generated
    inds = {i["id"]: i for i in rows(engine, schema.indicators)}
    values = rows(engine, schema.indicator_values)
    manual = {i for i, x in inds.items() if x["source"] == "manual"}
    assert {v["indicator_id"] for v in values} == manual
    for v in values:
        ind = inds[v["indicator_id"]]
        assert v["period_start"] <= v["period_end"] < TODAY and v["recorded_at"].date() <= TODAY
        assert v["period_start"] > ind["baseline_on"]
        if ind["unit"] == "percent":
            assert 0 <= v["value"] <= 100
    sexed = [i for i in manual if inds[i]["disaggregation"] == "sex"]
    assert sexed
    for i in sexed:
        assert {v["sex"] for v in values if v["indicator_id"] == i} == {"all", "female", "male"}
    same = Counter((v["indicator_id"], v["period_end"], v["sex"]) for v in values)
    corrected = [k for k, n in same.items() if n > 1]
    assert corrected
    for k in corrected:
        pair = sorted((v for v in values if (v["indicator_id"], v["period_end"], v["sex"]) == k),
                      key=lambda v: v["recorded_at"])
        assert pair[0]["recorded_at"] < pair[1]["recorded_at"] and pair[1]["note"]
    # some indicators are behind their straight line to target
    behind = 0
    for i in manual:
        ind = inds[i]
        last = max((v for v in values if v["indicator_id"] == i and v["sex"] == "all"), key=lambda v: v["period_end"])
        expected = (last["period_end"] - ind["baseline_on"]).days / (ind["target_on"] - ind["baseline_on"]).days
        got = (last["value"] - ind["baseline"]) / (ind["target"] - ind["baseline"])
        behind += got < expected - 0.1
    assert behind >= 1


def test_deterministic(generated, db_factory):
    engine, result, _ = generated
    other = db_factory.engine(engine.dialect.name)
    try:
        again = demo.generate(other, load_profile("mali"), cases=N, seed=SEED, today=TODAY)
        assert again == result
        assert dump(other) == dump(engine)
        # sequences follow the explicit ids (PostgreSQL): the next row gets a fresh id
        with other.begin() as conn:
            region = conn.execute(sa.select(schema.regions.c.id)).scalars().first()
            for table, values in (
                (schema.cases, dict(code="NEW-1", region_id=region, sex="female", age_band="18-20",
                                    trafficking_status="possible", identified_on=TODAY, case_status="active",
                                    current_stage="identification")),
            ):
                new_id = conn.execute(table.insert().values(**values)).inserted_primary_key[0]
                assert new_id > N
            case_id = new_id
            org = conn.execute(sa.select(schema.organisations.c.id)).scalars().all()
            rid = conn.execute(schema.referrals.insert().values(
                code="NEW-R", case_id=case_id, from_org_id=org[0], to_org_id=org[1], sent_on=TODAY,
            )).inserted_primary_key[0]
            assert rid > result["referrals"]
            conn.execute(schema.services.insert().values(code="NEW-S", case_id=case_id, service_type="food",
                                                         provider_org_id=org[0], started_on=TODAY))
    finally:
        db_factory.drop(other)


def test_mauritius(sqlite_engine):
    result = demo.generate(sqlite_engine, load_profile("mauritius"), cases=200, seed=SEED + 1, today=TODAY)
    assert result["cases"] == 200 and result["referrals"] > 200
    with sqlite_engine.connect() as conn:
        codes = conn.execute(sa.select(schema.cases.c.code)).scalars().all()
        statuses = set(conn.execute(sa.select(schema.plan_activities.c.status)).scalars())
    assert all(c.startswith("MU-") for c in codes)
    assert statuses <= set(ACTIVITY_STATUSES)
