"""Loading a profile's reference data: complete, idempotent, and updating by code."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
import sqlalchemy as sa

from dashboard import schema as s
from dashboard.profiles import CapacityPeriod, load_profile
from dashboard.reference import load_reference, profile_of

TABLES = [s.meta, s.regions, s.organisations, s.referral_targets, s.shelters, s.shelter_capacity, s.plans,
          s.plan_objectives, s.plan_activities, s.activity_partners, s.projects, s.project_results, s.indicators]


def _load(engine, profile):
    with engine.begin() as conn:
        load_reference(conn, profile)


def _snapshot(engine) -> dict[str, list]:
    with engine.connect() as conn:
        return {t.name: sorted((tuple(r) for r in conn.execute(sa.select(t))), key=repr) for t in TABLES}


def _one(engine, stmt):
    with engine.connect() as conn:
        return conn.execute(stmt).scalar_one()


@pytest.mark.parametrize("name", ["mali", "mauritius"])
def test_load_is_complete_and_idempotent(engine, name):
    profile = load_profile(name)
    with engine.connect() as conn:
        assert profile_of(conn) is None
    _load(engine, profile)
    first = _snapshot(engine)
    _load(engine, profile)
    assert _snapshot(engine) == first

    counts = {t: len(rows) for t, rows in first.items()}
    assert counts == {
        "meta": 3,
        "regions": len(profile.regions),
        "organisations": len(profile.organisations),
        "referral_targets": len(profile.referral_targets),
        "shelters": len(profile.shelters),
        "shelter_capacity": sum(len(sh.capacity) for sh in profile.shelters),
        "plans": 1,
        "plan_objectives": len(profile.plan.objectives),
        "plan_activities": len(profile.plan.activities),
        "activity_partners": sum(len(a.partners) for a in profile.plan.activities),
        "projects": len(profile.projects),
        "project_results": sum(len(p.results) for p in profile.projects),
        "indicators": sum(len(p.indicators) for p in profile.projects),
    }
    with engine.connect() as conn:
        assert profile_of(conn) == name
        meta = dict(conn.execute(sa.select(s.meta.c.key, s.meta.c.value)).all())
        assert meta == {"country": name, "country_iso2": profile.country_iso2, "currency": profile.currency}
        assert set(conn.execute(sa.select(s.plan_activities.c.status)).scalars()) == {"not_started"}
        outputs = conn.execute(sa.select(s.project_results).where(s.project_results.c.level == "output")).all()
        assert outputs and all(r.parent_id is not None for r in outputs)


def test_changed_profile_updates_rows_by_code(engine):
    profile = load_profile("mali")
    _load(engine, profile)
    before = _snapshot(engine)
    region_id = _one(engine, sa.select(s.regions.c.id).where(s.regions.c.code == "ML-4"))

    regions = tuple(replace(r, population=3_300_000) if r.code == "ML-4" else r for r in profile.regions)
    orgs = tuple(replace(o, name="Samusocial Mali (Bamako)") if o.code == "SAMU" else o for o in profile.organisations)
    shelters = tuple(
        replace(sh, capacity=(CapacityPeriod(date(2020, 1, 1), None, 12, 0, 12, 0),)) if sh.code == "SH-BKO-2" else sh
        for sh in profile.shelters
    )
    _load(engine, replace(profile, regions=regions, organisations=orgs, shelters=shelters))

    assert _one(engine, sa.select(s.regions.c.population).where(s.regions.c.code == "ML-4")) == 3_300_000
    assert _one(engine, sa.select(s.regions.c.id).where(s.regions.c.code == "ML-4")) == region_id
    assert _one(engine, sa.select(s.organisations.c.name).where(s.organisations.c.code == "SAMU")) == \
        "Samusocial Mali (Bamako)"
    beds = _one(engine, sa.select(s.shelter_capacity.c.beds_women).join(s.shelters)
                .where(s.shelters.c.code == "SH-BKO-2"))
    assert beds == 12
    after = _snapshot(engine)
    assert {t: len(rows) for t, rows in after.items()} == {t: len(rows) for t, rows in before.items()}
    assert [t for t in after if after[t] != before[t]] == ["regions", "organisations", "shelter_capacity"]


def test_owned_rows_are_pruned_and_recorded_status_kept(engine):
    profile = load_profile("mali")
    _load(engine, profile)
    with engine.begin() as conn:
        conn.execute(s.plan_activities.update().where(s.plan_activities.c.code == "ML-PREV-1.1")
                     .values(status="completed", budget_spent=40_000_000))

    grown = profile.shelters[0]
    fewer = replace(
        profile,
        shelters=(replace(grown, capacity=grown.capacity[-1:]), *profile.shelters[1:]),
        referral_targets=tuple(t for t in profile.referral_targets if t.service is None),
        plan=replace(profile.plan, objectives=(
            replace(profile.plan.objectives[0], activities=(
                replace(profile.plan.objectives[0].activities[0], partners=("IOM-ML",)),
                *profile.plan.objectives[0].activities[1:])),
            *profile.plan.objectives[1:])),
    )
    _load(engine, fewer)
    with engine.connect() as conn:
        activity = conn.execute(sa.select(s.plan_activities).where(s.plan_activities.c.code == "ML-PREV-1.1")).one()
        assert (activity.status, activity.budget_spent) == ("completed", 40_000_000)
        partners = conn.execute(sa.select(s.organisations.c.code).join(s.activity_partners)
                                .where(s.activity_partners.c.activity_id == activity.id)).scalars().all()
        assert partners == ["IOM-ML"]
        assert conn.execute(sa.select(sa.func.count()).select_from(s.referral_targets)
                            .where(s.referral_targets.c.service_type.is_not(None))).scalar() == 0
        periods = conn.execute(sa.select(s.shelter_capacity.c.valid_from, s.shelter_capacity.c.valid_to)
                               .join(s.shelters).where(s.shelters.c.code == grown.code)).all()
        assert periods == [(grown.capacity[-1].valid_from, None)]


def test_another_country_is_refused(engine):
    _load(engine, load_profile("mali"))
    with pytest.raises(ValueError, match="holds the 'mali' profile"):
        _load(engine, load_profile("mauritius"))
    with engine.connect() as conn:
        assert profile_of(conn) == "mali"
