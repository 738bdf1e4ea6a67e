"""Write validated records: upserts by natural key, inside the caller's transaction.

Every kind goes through :func:`upsert`: existing rows are looked up with one SELECT per
chunk of keys, new rows are inserted and changed rows updated with ``executemany``, and
rows whose values are all the same are left alone (so importing a file twice changes
nothing, and a corrected file updates only what it names). Only the columns present in
the file are compared and updated; a column left out of the file keeps what the database
holds.

The caller (:func:`dashboard.ingest.run_import`) owns the transaction: one per import,
rolled back on any error, and also after a dry run (which therefore reports exactly what
an import would insert, update or leave unchanged).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from dashboard import audit, derived
from dashboard import schema as s
from dashboard.domain import referral_intervals
from dashboard.ingest.report import Counts, ImportReport
from dashboard.ingest.validate import CHUNK, Validated, derive_case

BATCH = 5000  # rows per executemany


def _same(a, b) -> bool:
    if a is b or (type(a) is type(b) and a == b):
        return True
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        if a is None or b is None:
            return a is b
        return Decimal(str(a)).quantize(Decimal("0.01")) == Decimal(str(b)).quantize(Decimal("0.01"))
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return float(a) == float(b)
    if isinstance(a, datetime) and not isinstance(b, datetime) and isinstance(b, date):
        a = a.date()
    if isinstance(a, bool) or isinstance(b, bool):
        return (None if a is None else bool(a)) == (None if b is None else bool(b))
    return a == b


def _batches(rows: list, size: int = BATCH):
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def fetch_existing(conn, table: sa.Table, key: tuple[str, ...], keys: list[tuple], columns) -> dict[tuple, dict]:
    """Existing rows by natural key: one SELECT per chunk of the key's first column."""
    first = sorted({k[0] for k in keys}, key=str)
    wanted = set(keys)
    cols = [table.c.id] if "id" in table.c else []
    cols += [table.c[c] for c in dict.fromkeys([*key, *columns])]
    out: dict[tuple, dict] = {}
    order = [table.c.id] if "id" in table.c else []
    for i in range(0, len(first), CHUNK):
        stmt = sa.select(*cols).where(table.c[key[0]].in_(first[i:i + CHUNK]))
        for r in conn.execute(stmt.order_by(*order)).mappings():
            k = tuple(r[c] for c in key)
            if k in wanted and k not in out:
                out[k] = dict(r)
    return out


def upsert(conn, table: sa.Table, key: tuple[str, ...], rows: list[dict], compare: tuple[str, ...],
           counts: Counts, on_insert: dict | None = None, on_update: dict | None = None, progress=None) -> dict:
    """Insert or update ``rows`` (dicts of column values) by ``key``; return key -> status
    (``inserted``, ``updated`` or ``unchanged``) and fill ``counts``."""
    keys = [tuple(r[c] for c in key) for r in rows]
    existing = fetch_existing(conn, table, key, keys, compare)
    inserts, updates, status = [], [], {}
    for k, row in zip(keys, rows):
        old = existing.get(k)
        if old is None:
            inserts.append({**row, **(on_insert or {})})
            status[k] = "inserted"
        elif any(not _same(old[c], row[c]) for c in compare):
            updates.append({"_id": old["id"], **{f"v_{c}": row[c] for c in compare}, **{f"v_{c}": v for c, v in
                                                                                     (on_update or {}).items()}})
            status[k] = "updated"
        else:
            status[k] = "unchanged"
    done, total = 0, max(len(inserts) + len(updates), 1)
    for batch in _batches(inserts):
        conn.execute(table.insert(), batch)
        done += len(batch)
        if progress:
            progress(done / total)
    if updates:
        names = [*compare, *(on_update or {})]
        stmt = table.update().where(table.c.id == sa.bindparam("_id")).values({c: sa.bindparam(f"v_{c}") for c in names})
        for batch in _batches(updates):
            conn.execute(stmt, batch)
            done += len(batch)
            if progress:
                progress(done / total)
    counts.inserted += len(inserts)
    counts.updated += len(updates)
    counts.unchanged += len(rows) - len(inserts) - len(updates)
    return status


def ids_by_code(conn, table: sa.Table, codes) -> dict[str, int]:
    codes = sorted(set(codes))
    out = {}
    for i in range(0, len(codes), CHUNK):
        out.update(conn.execute(sa.select(table.c.code, table.c.id).where(table.c.code.in_(codes[i:i + CHUNK]))).all())
    return out


def replace_sets(conn, table: sa.Table, column: str, wanted: dict[int, tuple]) -> set[int]:
    """Make each case's set (exploitation types, control methods) what ``wanted`` says;
    return the cases whose set changed."""
    ids = sorted(wanted)
    have: dict[int, set] = {i: set() for i in ids}
    for i in range(0, len(ids), CHUNK):
        for case_id, value in conn.execute(sa.select(table.c.case_id, table.c[column])
                                           .where(table.c.case_id.in_(ids[i:i + CHUNK]))):
            have[case_id].add(value)
    changed = [i for i in ids if have[i] != set(wanted[i])]
    for i in range(0, len(changed), CHUNK):
        conn.execute(table.delete().where(table.c.case_id.in_(changed[i:i + CHUNK])))
    rows = [{"case_id": i, column: v} for i in changed for v in sorted(set(wanted[i]))]
    for batch in _batches(rows):
        conn.execute(table.insert(), batch)
    return set(changed)


def _now() -> datetime:
    return audit.now()


# ---------------------------------------------------------------- per kind
CASE_FIELDS = {  # file column -> database column (refs resolved to *_id by validation)
    "region": "region_id", "sex": "sex", "age_band": "age_band", "nationality": "nationality",
    "trafficking_status": "trafficking_status", "status_decided_by": "status_decided_by",
    "identified_on": "identified_on", "identified_by": "identified_by_org_id", "case_status": "case_status",
    "owner": "owner_org_id", "current_stage": "current_stage",
}


def write_cases(conn, v: Validated, report: ImportReport, progress=None) -> None:
    present, iso2 = v.present, v.extra.get("iso2")
    columns = [db for col, db in CASE_FIELDS.items() if col in present]
    columns += ["is_minor"] + (["is_foreign"] if "nationality" in present else [])
    rows = []
    for rec in v.records:
        row = {"code": rec["code"]}
        for col, db in CASE_FIELDS.items():
            if col in present:
                row[db] = rec.get(col + "_id") if db.endswith("_id") else rec.get(col)
        derived = derive_case(rec, iso2)
        row["is_minor"] = derived["is_minor"]
        if "nationality" in present:
            row["is_foreign"] = derived["is_foreign"]
        rows.append(row)
    sets = {}
    if "exploitation" in present:
        sets["exploitation"] = (s.case_exploitation, "exploitation_type")
    if "control_methods" in present:
        sets["control_methods"] = (s.case_control_methods, "method")
    _write_case_rows(conn, rows, tuple(columns), sets, {k: [r.get(k) or () for r in v.records] for k in sets},
                     report, progress)


def _write_case_rows(conn, rows, columns, sets: dict, set_values: dict, report: ImportReport, progress=None):
    counts = Counts()
    now = _now()
    status = upsert(conn, s.cases, ("code",), rows, columns, counts,
                    on_insert={"source": "import", "updated_at": now}, on_update={"updated_at": now},
                    progress=progress)
    if sets:
        ids = ids_by_code(conn, s.cases, [r["code"] for r in rows])
        changed: set[int] = set()
        for name, (table, column) in sets.items():
            wanted = {ids[r["code"]]: tuple(vals) for r, vals in zip(rows, set_values[name])}
            changed |= replace_sets(conn, table, column, wanted)
        # a case whose row was unchanged but whose sets changed counts as updated
        late = [r["code"] for r in rows if ids[r["code"]] in changed and status[(r["code"],)] == "unchanged"]
        if late:
            for i in range(0, len(late), CHUNK):
                conn.execute(s.cases.update().where(s.cases.c.code.in_(late[i:i + CHUNK])).values(updated_at=now))
            counts.updated += len(late)
            counts.unchanged -= len(late)
    report.counts["cases"] = counts


def write_stage_events(conn, v: Validated, report: ImportReport, progress=None) -> None:
    compare = tuple(c for c, f in (("organisation_id", "organisation"), ("outcome", "outcome")) if f in v.present)
    rows = [{"case_id": r["case_id"], "stage": r["stage"], "occurred_on": r["occurred_on"],
             **({"organisation_id": r.get("organisation_id")} if "organisation" in v.present else {}),
             **({"outcome": r.get("outcome")} if "outcome" in v.present else {})} for r in v.records]
    report.counts["stage_events"] = Counts()
    status = upsert(conn, s.stage_events, ("case_id", "stage", "occurred_on"), rows, compare,
                    report.counts["stage_events"], progress=progress)
    derived.refresh_cases(conn, {k[0] for k, st in status.items() if st != "unchanged"}, services=False)


REFERRAL_FIELDS = ("reason", "service_type", "sent_on", "acknowledged_on", "decided_on", "outcome", "decline_reason",
                   "first_service_on")


def referral_row(rec: dict, present) -> dict:
    row = {"code": rec["code"], "case_id": rec["case_id"], "from_org_id": rec["from_org_id"],
           "to_org_id": rec["to_org_id"]}
    for c in REFERRAL_FIELDS:
        if c in present:
            row[c] = rec.get(c)
    return row


def _with_intervals(conn, rows: list[dict], present) -> list[dict]:
    """days_to_* from the dates (dashboard.domain.referral_intervals); dates missing from
    the file are taken from the database's row."""
    dates = ("acknowledged_on", "decided_on", "first_service_on")
    missing = [d for d in dates if d not in present]
    old = {}
    if missing:
        old = {k[0]: r for k, r in fetch_existing(conn, s.referrals, ("code",), [(r["code"],) for r in rows],
                                                  dates).items()}
    for row in rows:
        known = {d: row[d] if d in present else (old.get(row["code"]) or {}).get(d) for d in dates}
        row.update(referral_intervals(row["sent_on"], known["acknowledged_on"], known["decided_on"],
                                      known["first_service_on"]))
    return rows


INTERVALS = ("days_to_acknowledge", "days_to_decision", "days_to_first_service")


def write_referral_rows(conn, rows: list[dict], present, report: ImportReport, progress=None) -> None:
    rows = _with_intervals(conn, rows, present)
    compare = ("case_id", "from_org_id", "to_org_id", *[c for c in REFERRAL_FIELDS if c in present], *INTERVALS)
    report.counts["referrals"] = Counts()
    upsert(conn, s.referrals, ("code",), rows, compare, report.counts["referrals"], progress=progress)


def write_referrals(conn, v: Validated, report: ImportReport, progress=None) -> None:
    write_referral_rows(conn, [referral_row(r, v.present) for r in v.records], v.present, report, progress)


def write_services(conn, v: Validated, report: ImportReport, progress=None) -> None:
    opt = [c for c in ("ended_on",) if c in v.present]
    rows = []
    for r in v.records:
        row = {"code": r["code"], "case_id": r["case_id"], "service_type": r["service_type"],
               "provider_org_id": r["provider_id"], "started_on": r["started_on"], **{c: r.get(c) for c in opt}}
        if "referral" in v.present:
            row["referral_id"] = r.get("referral_id")
        rows.append(row)
    compare = ("case_id", "service_type", "provider_org_id", "started_on", *opt,
               *(["referral_id"] if "referral" in v.present else []))
    report.counts["services"] = Counts()
    # a service moved to another case changes the first service of both
    before = fetch_existing(conn, s.services, ("code",), [(r["code"],) for r in rows], ("case_id",))
    status = upsert(conn, s.services, ("code",), rows, compare, report.counts["services"], progress=progress)
    touched = {r["case_id"] for r in rows if status[(r["code"],)] != "unchanged"}
    touched |= {before[k]["case_id"] for k, st in status.items() if st == "updated" and k in before}
    derived.refresh_cases(conn, touched, stages=False)


def write_shelter_stays(conn, v: Validated, report: ImportReport, progress=None) -> None:
    opt = [c for c in ("exited_on", "exit_destination") if c in v.present]
    rows = [{"case_id": r["case_id"], "shelter_id": r["shelter_id"], "entered_on": r["entered_on"],
             **{c: r.get(c) for c in opt}} for r in v.records]
    report.counts["shelter_stays"] = Counts()
    upsert(conn, s.shelter_stays, ("case_id", "shelter_id", "entered_on"), rows, tuple(opt),
           report.counts["shelter_stays"], progress=progress)


BEDS = ("beds_women", "beds_men", "beds_girls", "beds_boys")


def write_shelter_capacity(conn, v: Validated, report: ImportReport, progress=None) -> None:
    opt = [c for c in ("valid_to", *BEDS) if c in v.present]
    rows = [{"shelter_id": r["shelter_id"], "valid_from": r["valid_from"], **{c: r.get(c) for c in opt}}
            for r in v.records]
    on_insert = {c: 0 for c in BEDS if c not in v.present}
    report.counts["shelter_capacity"] = Counts()
    upsert(conn, s.shelter_capacity, ("shelter_id", "valid_from"), rows, tuple(opt), report.counts["shelter_capacity"],
           on_insert=on_insert, progress=progress)


def _money(x) -> Decimal | None:
    return None if x is None else Decimal(str(round(float(x), 2))).quantize(Decimal("0.01"))


def write_activity_updates(conn, v: Validated, report: ImportReport, actor: str | None, progress=None) -> None:
    h = s.activity_status_history
    opt = [c for c in ("evidence_note", "budget_spent") if c in v.present]
    rows = [{"activity_id": r["activity_id"], "changed_on": r["changed_on"], "status": r["status"],
             **{c: (_money(r.get(c)) if c == "budget_spent" else r.get(c)) for c in opt}} for r in v.records]
    report.counts["activity_status_history"] = Counts()
    upsert(conn, h, ("activity_id", "changed_on", "status"), rows, tuple(opt), report.counts["activity_status_history"],
           on_insert={"recorded_by": actor, "recorded_at": _now()}, progress=progress)
    sync_activity_status(conn, sorted({r["activity_id"] for r in rows}), "budget_spent" in v.present,
                         report.count("plan_activities"))


def sync_activity_status(conn, activity_ids: list[int], budget: bool, counts: Counts) -> None:
    """An activity's status (and budget spent) are those of its latest history entry."""
    h, a = s.activity_status_history, s.plan_activities
    for i in range(0, len(activity_ids), CHUNK):
        chunk = activity_ids[i:i + CHUNK]
        latest: dict[int, dict] = {}
        spent: dict[int, Decimal] = {}
        for r in conn.execute(sa.select(h.c.activity_id, h.c.status, h.c.budget_spent).where(h.c.activity_id.in_(chunk))
                              .order_by(h.c.activity_id, h.c.changed_on, h.c.id)):
            latest[r.activity_id] = {"status": r.status}
            if r.budget_spent is not None:
                spent[r.activity_id] = r.budget_spent
        current = {r.id: r for r in conn.execute(sa.select(a.c.id, a.c.status, a.c.budget_spent).where(a.c.id.in_(chunk)))}
        for aid, want in latest.items():
            values = {}
            if current[aid].status != want["status"]:
                values["status"] = want["status"]
            if budget and aid in spent and not _same(current[aid].budget_spent, spent[aid]):
                values["budget_spent"] = spent[aid]
            if values:
                conn.execute(a.update().where(a.c.id == aid).values(**values))
                counts.updated += 1
            else:
                counts.unchanged += 1


def write_indicator_values(conn, v: Validated, report: ImportReport, actor: str | None, progress=None) -> None:
    """Values keep their history: a changed value for the same indicator, period and sex
    is a new row (a correction, later ``recorded_at``); the latest row is the value."""
    iv = s.indicator_values
    counts = report.counts["indicator_values"] = Counts()
    has_note = "note" in v.present
    values = v.extra["values"]  # the rows dashboard.updates.validate_indicator_value derived
    keys = [(r["indicator_id"], r["period_start"], r["period_end"], r["sex"]) for r in values]
    latest: dict[tuple, dict] = {}
    ids = sorted({k[0] for k in keys})
    for i in range(0, len(ids), CHUNK):
        for r in conn.execute(sa.select(iv).where(iv.c.indicator_id.in_(ids[i:i + CHUNK]))
                              .order_by(iv.c.recorded_at, iv.c.id)).mappings():
            latest[(r["indicator_id"], r["period_start"], r["period_end"], r["sex"])] = dict(r)
    now = _now()
    new = []
    for k, rec in zip(keys, values):
        old = latest.get(k)
        note = rec.get("note") if has_note else (old or {}).get("note")
        if old is not None and _same(old["value"], float(rec["value"])) and old["note"] == note:
            counts.unchanged += 1
            continue
        new.append({"indicator_id": k[0], "period_start": k[1], "period_end": k[2], "sex": k[3],
                    "value": float(rec["value"]), "note": note, "recorded_by": actor, "recorded_at": now})
        if old is None:
            counts.inserted += 1
        else:
            counts.updated += 1
    for batch in _batches(new):
        conn.execute(iv.insert(), batch)
    if progress:
        progress(1.0)


def write_htcds(conn, v: Validated, report: ImportReport, progress=None) -> None:
    data = v.extra
    cases = data["cases"]
    columns = ("person_hash", "region_id", "sex", "age_band", "is_minor", "nationality", "is_foreign",
               "trafficking_status", "status_decided_by", "identified_on", "identified_by_org_id", "case_status",
               "owner_org_id", "current_stage")
    rows = [{"code": c["code"], **{k: c[k] for k in columns}} for c in cases]
    sets = {"exploitation": (s.case_exploitation, "exploitation_type"), "control": (s.case_control_methods, "method")}
    _write_case_rows(conn, rows, columns, sets,
                     {"exploitation": [c["_exploitation"] for c in cases], "control": [c["_control"] for c in cases]},
                     report, progress)
    ids = ids_by_code(conn, s.cases, [c["code"] for c in cases])
    present = set(REFERRAL_FIELDS)
    refs = [{**{k: r[k] for k in ("code", "from_org_id", "to_org_id", *REFERRAL_FIELDS)}, "case_id": ids[r["case"]]}
            for r in data["referrals"]]
    # a hand-off already known as decided (from the receiving agency's sheet) stays decided
    # when the sending agency's sheet, which cannot know the decision, is imported again
    decided = ("acknowledged_on", "decided_on", "outcome", "decline_reason", "first_service_on")
    old = fetch_existing(conn, s.referrals, ("code",), [(r["code"],) for r in refs], ("reason", *decided))
    for r in refs:
        known = old.get((r["code"],))
        if known is None:
            continue
        if r["outcome"] is None and known["outcome"] is not None:
            r.update({k: known[k] for k in decided})
        r["reason"] = r["reason"] or known["reason"]
    write_referral_rows(conn, refs, present, report)
    _identification_events(conn, [(ids[e["case"]], e["occurred_on"], e["organisation_id"]) for e in data["stage_events"]],
                           report.count("stage_events"))


def _identification_events(conn, events: list[tuple[int, date, int]], counts: Counts) -> None:
    """One identification event per case, on its identification date (moved there when a
    merge made the date earlier)."""
    se = s.stage_events
    case_ids = sorted({e[0] for e in events})
    have: dict[int, list] = {}
    for i in range(0, len(case_ids), CHUNK):
        for r in conn.execute(sa.select(se.c.id, se.c.case_id, se.c.occurred_on, se.c.organisation_id)
                              .where(se.c.case_id.in_(case_ids[i:i + CHUNK]), se.c.stage == "identification")
                              .order_by(se.c.occurred_on, se.c.id)):
            have.setdefault(r.case_id, []).append(r)
    inserts, updates = [], []
    for case_id, on, org in events:
        rows = have.get(case_id, [])
        same_day = next((r for r in rows if r.occurred_on == on), None)
        if same_day is not None:
            if same_day.organisation_id != org:
                updates.append({"_id": same_day.id, "v_on": on, "v_org": org})
            else:
                counts.unchanged += 1
        elif rows:
            updates.append({"_id": rows[0].id, "v_on": on, "v_org": org})
        else:
            inserts.append({"case_id": case_id, "stage": "identification", "occurred_on": on, "organisation_id": org})
    for batch in _batches(inserts):
        conn.execute(se.insert(), batch)
    if updates:
        stmt = se.update().where(se.c.id == sa.bindparam("_id")).values(occurred_on=sa.bindparam("v_on"),
                                                                          organisation_id=sa.bindparam("v_org"))
        conn.execute(stmt, updates)
    counts.inserted += len(inserts)
    counts.updated += len(updates)
    case_of = {r.id: r.case_id for rows in have.values() for r in rows}
    touched = {e["case_id"] for e in inserts} | {case_of[u["_id"]] for u in updates}
    derived.refresh_cases(conn, touched, services=False)


def write(conn, v: Validated, report: ImportReport, actor: str | None = None, progress=None) -> None:
    name = v.kind.name
    if name == "activity_updates":
        write_activity_updates(conn, v, report, actor, progress)
    elif name == "indicator_values":
        write_indicator_values(conn, v, report, actor, progress)
    else:
        WRITERS[name](conn, v, report, progress)


WRITERS = {
    "cases": write_cases,
    "stage_events": write_stage_events,
    "referrals": write_referrals,
    "services": write_services,
    "shelter_stays": write_shelter_stays,
    "shelter_capacity": write_shelter_capacity,
    "htcds": write_htcds,
}
