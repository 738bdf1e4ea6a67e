"""Write a country profile's reference data into the database.

``load_reference`` is idempotent: rows are matched on their natural key (codes), new
ones are inserted, changed ones updated, unchanged ones left alone. Rows that the
profile owns completely are also pruned: referral targets, the capacity periods of the
profile's shelters and the partners of its activities. Nothing else is deleted (cases
point at organisations and regions), and what the dashboard itself records (activity
status and budget spent, indicator values, an organisation's ``active`` flag) is never
overwritten.

Call it inside a transaction: ``with engine.begin() as conn: load_reference(conn, p)``.
"""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dashboard import schema as s
from dashboard.profiles import Profile, Result


def profile_of(conn: Connection) -> str | None:
    """Code of the profile loaded in this database (``meta.country``), if any."""
    return conn.execute(sa.select(s.meta.c.value).where(s.meta.c.key == "country")).scalar()


def load_reference(conn: Connection, profile: Profile) -> None:
    current = profile_of(conn)
    if current is not None and current != profile.code:
        raise ValueError(f"this database holds the '{current}' profile; it cannot take '{profile.code}'")
    lang = profile.default_language

    _sync(conn, s.meta, ("key",), [
        {"key": "country", "value": profile.code},
        {"key": "country_iso2", "value": profile.country_iso2},
        {"key": "currency", "value": profile.currency},
    ])
    region = _sync(conn, s.regions, ("code",), [
        {"code": r.code, "name": r.name, "population": r.population} for r in profile.regions
    ])
    org = _sync(conn, s.organisations, ("code",), [
        {"code": o.code, "name": o.name, "org_type": o.org_type, "region_id": region[o.region]}
        for o in profile.organisations
    ])
    _sync(conn, s.referral_targets, ("org_type", "service_type"), [
        {"org_type": t.org_type, "service_type": t.service, "days": t.days} for t in profile.referral_targets
    ], prune=sa.true())

    shelter = _sync(conn, s.shelters, ("code",), [
        {"code": sh.code, "name": sh.name, "organisation_id": org[sh.organisation], "region_id": region[sh.region]}
        for sh in profile.shelters
    ])
    _sync(conn, s.shelter_capacity, ("shelter_id", "valid_from"), [
        {"shelter_id": shelter[sh.code], "valid_from": p.valid_from, "valid_to": p.valid_to, "beds_women": p.women,
         "beds_men": p.men, "beds_girls": p.girls, "beds_boys": p.boys}
        for sh in profile.shelters for p in sh.capacity
    ], prune=s.shelter_capacity.c.shelter_id.in_(list(shelter.values())))

    plan = profile.plan
    plan_id = _sync(conn, s.plans, ("code",), [
        {"code": plan.code, "title_fr": plan.title.fr, "title_en": plan.title.en, "starts_on": plan.starts_on,
         "ends_on": plan.ends_on, "currency": profile.currency}
    ])[plan.code]
    objective = _sync(conn, s.plan_objectives, ("code",), [
        {"code": o.code, "plan_id": plan_id, "pillar": o.pillar, "title_fr": o.title.fr, "title_en": o.title.en}
        for o in plan.objectives
    ])
    activity = _sync(conn, s.plan_activities, ("code",), [
        {"code": a.code, "objective_id": objective[o.code], "pillar": a.pillar, "title_fr": a.title.fr,
         "title_en": a.title.en, "lead_org_id": org[a.lead], "region_id": region.get(a.region),
         "planned_start": a.planned_start, "planned_end": a.planned_end, "budget_planned": Decimal(str(a.budget)),
         "indicator": a.indicator.get(lang)}
        for o in plan.objectives for a in o.activities
    ], on_insert={"status": "not_started"})
    _sync(conn, s.activity_partners, ("activity_id", "organisation_id"), [
        {"activity_id": activity[a.code], "organisation_id": org[p]} for a in plan.activities for p in a.partners
    ], prune=s.activity_partners.c.activity_id.in_(list(activity.values())))

    project = _sync(conn, s.projects, ("code",), [
        {"code": p.code, "title_fr": p.title.fr, "title_en": p.title.en, "organisation_id": org[p.organisation],
         "donor": p.donor, "starts_on": p.starts_on, "ends_on": p.ends_on}
        for p in profile.projects
    ])

    def results(level: str, parent: dict[str, int] | None) -> dict[str, int]:
        rows = []
        for p in profile.projects:
            for outcome in p.outcomes:
                items: tuple[Result, ...] = (outcome,) if parent is None else outcome.children
                rows += [{"code": r.code, "project_id": project[p.code], "level": level, "title_fr": r.title.fr,
                          "title_en": r.title.en, "parent_id": None if parent is None else parent[outcome.code]}
                         for r in items]
        return _sync(conn, s.project_results, ("code",), rows)

    outcome_ids = results("outcome", None)
    result = {**outcome_ids, **results("output", outcome_ids)}
    _sync(conn, s.indicators, ("code",), [
        {"code": i.code, "result_id": result[r.code], "label_fr": i.label.fr, "label_en": i.label.en,
         "unit": i.unit, "baseline": i.baseline, "baseline_on": i.baseline_on, "target": i.target,
         "target_on": i.target_on, "direction": i.direction, "disaggregation": i.disaggregation,
         "source": i.source, "computation": i.computation}
        for p in profile.projects for r in p.results for i in r.indicators
    ])


def _sync(conn: Connection, table: sa.Table, key: tuple[str, ...], rows: list[dict],
          on_insert: dict | None = None, prune=None) -> dict:
    """Upsert ``rows`` into ``table`` by the natural ``key``; return key -> id.

    Only the columns given in ``rows`` are compared and updated; ``on_insert`` adds
    values for new rows only. With ``prune`` (a WHERE clause), existing rows matching
    it whose key is not in ``rows`` are deleted. Keys may contain NULLs: matching is
    done in Python, writes go by primary key.
    """
    def key_of(row) -> tuple:
        return tuple(row[k] for k in key)

    pk = [c.name for c in table.primary_key.columns]
    existing = {key_of(r): r for r in conn.execute(sa.select(table)).mappings()}
    wanted = {key_of(r) for r in rows}
    fields = [c for c in (rows[0] if rows else {}) if c not in key]

    new = [{**(on_insert or {}), **r} for r in rows if key_of(r) not in existing]
    changed = [
        {**{f"b_{c}": r[c] for c in fields}, **{f"pk_{c}": existing[key_of(r)][c] for c in pk}}
        for r in rows
        if key_of(r) in existing and any(existing[key_of(r)][c] != r[c] for c in fields)
    ]
    by_pk = sa.and_(*(table.c[c] == sa.bindparam(f"pk_{c}") for c in pk))
    if new:
        conn.execute(table.insert(), new)
    if changed:
        conn.execute(table.update().where(by_pk).values({c: sa.bindparam(f"b_{c}") for c in fields}), changed)
    if prune is not None:
        stale = [{f"pk_{c}": r[c] for c in pk}
                 for r in conn.execute(sa.select(table).where(prune)).mappings() if key_of(r) not in wanted]
        if stale:
            conn.execute(table.delete().where(by_pk), stale)
    if "id" not in table.c:
        return {}
    ids = {key_of(r): r["id"] for r in conn.execute(sa.select(table.c.id, *(table.c[k] for k in key))).mappings()}
    return {(k[0] if len(key) == 1 else k): v for k, v in ids.items()}
