"""The committee's case review: the meeting agenda and the timeline of one case.

Case level throughout (committee members and administrators only): every function here
is decorated with :func:`dashboard.privacy.case_level` and takes ``(conn, filters, viewer,
...)``. Cases are named by their pseudonymous code; nothing here reads or returns personal
data (there is none in the schema).

**Agenda** — the cases needing attention *today* (``filters.today``), each for one or more
reasons, with how many days it is past the threshold (the profile's ``review`` thresholds,
passed in by the caller as ``thresholds``: an object with ``no_assistance_days``,
``long_stay_days`` and ``no_movement_days``, e.g. ``profiles.ReviewThresholds``):

* ``overdue_referral`` — a referral of the case with no decision and today − sent date >
  the target of the receiving organisation (``queries.targets.pending_select``); days past
  = age − target; the organisation that holds it is the **receiving** one.
* ``no_assistance`` — an open case (active or follow-up) identified more than N days ago
  (N = ``no_assistance_days``) with no service started and no ``immediate_assistance``
  stage event by today; days past = today − identification date − N.
* ``long_stay`` — a shelter stay still open today that began more than N days ago
  (N = ``long_stay_days``); days past = today − entry date − N.
* ``no_movement`` — an open case with no stage event, referral (sent, acknowledged,
  decided, first service), service (start, end) or shelter stay (entry, exit) — nor its
  identification — in the last N days (N = ``no_movement_days``); days past = today −
  last movement − N.

"More than N days": a case exactly N days in is not listed; N + 1 days in is listed with
1 day past. The period filter does not restrict these "stuck now" reasons; region (and the
viewer's scope), sex, age group and exploitation type do (``Filters.case_clauses``).
Urgency order: days past (the largest over the case's reasons), then the number of
reasons, then the case code. All of it is one SQL statement (a UNION ALL of the reasons,
grouped per case).
"""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from dashboard import privacy, schema
from dashboard.db import date_param, days_diff, frame, greatest
from dashboard.domain import JUSTICE_STEPS, N_, STAGES
from dashboard.filters import Filters
from dashboard.queries.targets import pending_select

c, o, rg = schema.cases, schema.organisations, schema.regions
se, r, sv, ss, sh = (schema.stage_events, schema.referrals, schema.services, schema.shelter_stays,
                     schema.shelters)

REASONS = ("overdue_referral", "no_assistance", "long_stay", "no_movement")
REASON_LABELS = {
    "overdue_referral": N_("Overdue referral"),
    "no_assistance": N_("No assistance yet"),
    "long_stay": N_("Long shelter stay"),
    "no_movement": N_("No movement"),
}
OPEN_STATUSES = ("active", "follow_up")
AGENDA_LIMIT = 300

# Timeline rows: what kind of item, in the order the tracks are drawn.
TIMELINE_KINDS = ("stage", "justice", "referral", "service", "stay")
TIMELINE_KIND_LABELS = {
    "stage": N_("Referral chain"),
    "justice": N_("Justice"),
    "referral": N_("Referrals"),
    "service": N_("Services"),
    "stay": N_("Shelter stays"),
}

AGENDA_COLUMNS = [
    "case_code", "region", "region_name", "sex", "age_band", "case_status", "current_stage",
    "holder", "holder_name", "days_past", "reasons",
    "overdue_referral_days", "overdue_referrals", "waiting_on", "waiting_on_name", "referral_sent_on",
    "no_assistance_days", "identified_on",
    "long_stay_days", "stay_entered_on",
    "no_movement_days", "last_movement_on", "listed",
]


def _reason(name: str):
    return sa.literal_column(f"'{name}'", sa.String).label("reason")


def _last_movement(f: Filters, dialect: str):
    """Scalar SQL, correlated with ``cases``: the latest dated fact of the case up to today
    (its identification, stage events, referrals sent / acknowledged / decided / first
    service, services started / ended, shelter stays entered / exited). One indexed look-up
    per table (each is indexed on case_id)."""
    def upto(col):
        return sa.case((col <= f.today, col))

    def latest(table, first, *others):
        return (
            sa.select(sa.func.max(greatest(dialect, first, *(upto(x) for x in others))))
            .where(table.c.case_id == c.c.id, first <= f.today)
            .scalar_subquery()
        )

    return greatest(
        dialect,
        c.c.identified_on,
        latest(se, se.c.occurred_on),
        latest(r, r.c.sent_on, r.c.acknowledged_on, r.c.decided_on, r.c.first_service_on),
        latest(sv, sv.c.started_on, sv.c.ended_on),
        latest(ss, ss.c.entered_on, ss.c.exited_on),
    )


def _reasons_select(f: Filters, dialect: str, thresholds) -> sa.CompoundSelect:
    """UNION ALL of one row per (case, reason, item): case_id, reason, org_id, since,
    days_past, ref (the referral id for overdue referrals, else NULL)."""
    today = date_param(f.today)
    open_case = c.c.case_status.in_(OPEN_STATUSES)
    null_ref = sa.cast(sa.null(), sa.Integer).label("ref")

    pend = pending_select(f, dialect, overdue_only=True).subquery("overdue")
    overdue = sa.select(
        pend.c.case_id, _reason("overdue_referral"), pend.c.to_org_id.label("org_id"), pend.c.sent_on.label("since"),
        pend.c.days_over.label("days_past"), pend.c.referral_id.label("ref"),
    )

    n = int(thresholds.no_assistance_days)
    age = days_diff(c.c.identified_on, today, dialect)
    no_assistance = sa.select(
        c.c.id.label("case_id"), _reason("no_assistance"), c.c.owner_org_id.label("org_id"),
        c.c.identified_on.label("since"), (age - n).label("days_past"), null_ref,
    ).where(
        open_case, *f.case_clauses(), age > n,
        ~sa.exists().where(sv.c.case_id == c.c.id, sv.c.started_on <= f.today),
        ~sa.exists().where(se.c.case_id == c.c.id, se.c.stage == "immediate_assistance", se.c.occurred_on <= f.today),
    )

    n = int(thresholds.long_stay_days)
    age = days_diff(ss.c.entered_on, today, dialect)
    long_stay = (
        sa.select(
            ss.c.case_id, _reason("long_stay"), c.c.owner_org_id.label("org_id"), ss.c.entered_on.label("since"),
            (age - n).label("days_past"), null_ref,
        )
        .select_from(ss.join(c, c.c.id == ss.c.case_id))
        .where(ss.c.entered_on <= f.today, sa.or_(ss.c.exited_on.is_(None), ss.c.exited_on > f.today), age > n,
               *f.case_clauses())
    )

    n = int(thresholds.no_movement_days)
    # materialised: the latest date is looked up once per case, not once per use
    open_cases = (
        sa.select(c.c.id.label("case_id"), c.c.owner_org_id.label("org_id"),
                  _last_movement(f, dialect).label("last_on"))
        .where(open_case, c.c.identified_on <= f.today, *f.case_clauses())
        .cte("open_cases")
        .prefix_with("MATERIALIZED")
    )
    age = days_diff(open_cases.c.last_on, today, dialect)
    no_movement = sa.select(
        open_cases.c.case_id, _reason("no_movement"), open_cases.c.org_id, open_cases.c.last_on.label("since"),
        (age - n).label("days_past"), null_ref,
    ).where(age > n)
    return sa.union_all(overdue, no_assistance, long_stay, no_movement)


def _when(reasons, name: str, col):
    return sa.case((reasons.c.reason == name, col))


@privacy.case_level
def agenda(conn, f: Filters, viewer, thresholds, limit: int | None = AGENDA_LIMIT,
           only: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The meeting agenda, most urgent first: one row per case needing attention (with
    ``only``, the cases with at least one of those reasons, all their reasons shown).

    Columns: case_code, region (code), region_name, sex, age_band, case_status,
    current_stage, holder / holder_name (the organisation holding the case,
    ``cases.owner_org_id``), days_past (the largest over its reasons), reasons (how many);
    per reason, NULL when it does not apply —
    overdue_referral_days (of its most overdue referral), overdue_referrals (how many),
    waiting_on / waiting_on_name (the receiving organisation of the most overdue one),
    referral_sent_on; no_assistance_days, identified_on; long_stay_days, stay_entered_on;
    no_movement_days, last_movement_on; listed (how many cases the whole agenda holds, the
    same on every row). At most ``limit`` rows (None: all)."""
    reasons = _reasons_select(f, conn.dialect.name, thresholds).cte("reasons").prefix_with("MATERIALIZED")
    per_case = (
        sa.select(
            reasons.c.case_id,
            sa.func.max(reasons.c.days_past).label("days_past"),
            sa.func.count(sa.distinct(reasons.c.reason)).label("reasons"),
            sa.func.max(_when(reasons, "overdue_referral", reasons.c.days_past)).label("overdue_referral_days"),
            sa.func.count(_when(reasons, "overdue_referral", reasons.c.ref)).label("overdue_referrals"),
            sa.func.max(_when(reasons, "no_assistance", reasons.c.days_past)).label("no_assistance_days"),
            sa.func.max(_when(reasons, "long_stay", reasons.c.days_past)).label("long_stay_days"),
            sa.func.min(_when(reasons, "long_stay", reasons.c.since)).label("stay_entered_on"),
            sa.func.max(_when(reasons, "no_movement", reasons.c.days_past)).label("no_movement_days"),
            sa.func.max(_when(reasons, "no_movement", reasons.c.since)).label("last_movement_on"),
        )
        .group_by(reasons.c.case_id)
    )
    if only is not None:
        unknown = set(only) - set(REASONS)
        if unknown:
            raise ValueError(f"unknown agenda reasons {sorted(unknown)}")
        per_case = per_case.having(sa.func.max(sa.case((reasons.c.reason.in_(only), 1), else_=0)) == 1)
    per_case = per_case.subquery("per_case")
    ranked = (
        sa.select(
            reasons.c.case_id, reasons.c.org_id, reasons.c.since,
            sa.func.row_number().over(
                partition_by=reasons.c.case_id,
                order_by=(reasons.c.days_past.desc(), reasons.c.since, reasons.c.ref),
            ).label("rn"),
        )
        .where(reasons.c.reason == "overdue_referral")
        .subquery("ranked")
    )
    worst = sa.select(ranked.c.case_id, ranked.c.org_id, ranked.c.since).where(ranked.c.rn == 1).subquery("worst")
    holder, receiver = o.alias("holder"), o.alias("receiver")
    stmt = (
        sa.select(
            c.c.code.label("case_code"), rg.c.code.label("region"), rg.c.name.label("region_name"), c.c.sex,
            c.c.age_band, c.c.case_status, c.c.current_stage, holder.c.code.label("holder"),
            holder.c.name.label("holder_name"), per_case.c.days_past, per_case.c.reasons,
            per_case.c.overdue_referral_days, per_case.c.overdue_referrals, receiver.c.code.label("waiting_on"),
            receiver.c.name.label("waiting_on_name"), worst.c.since.label("referral_sent_on"),
            per_case.c.no_assistance_days,
            sa.case((per_case.c.no_assistance_days.is_not(None), c.c.identified_on)).label("identified_on"),
            per_case.c.long_stay_days, per_case.c.stay_entered_on, per_case.c.no_movement_days,
            per_case.c.last_movement_on, sa.func.count().over().label("listed"),
        )
        .select_from(
            per_case.join(c, c.c.id == per_case.c.case_id)
            .join(rg, rg.c.id == c.c.region_id)
            .outerjoin(holder, holder.c.id == c.c.owner_org_id)
            .outerjoin(worst, worst.c.case_id == per_case.c.case_id)
            .outerjoin(receiver, receiver.c.id == worst.c.org_id)
        )
        .order_by(per_case.c.days_past.desc(), per_case.c.reasons.desc(), c.c.code)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    df = frame(conn, stmt)
    if df.empty:
        return pd.DataFrame(columns=AGENDA_COLUMNS)
    for col in ("days_past", "reasons", "overdue_referrals", "listed"):
        df[col] = df[col].astype(int)
    for col in ("overdue_referral_days", "no_assistance_days", "long_stay_days", "no_movement_days"):
        df[col] = pd.to_numeric(df[col]).astype("Int64")
    for col in ("referral_sent_on", "identified_on", "stay_entered_on", "last_movement_on"):
        df[col] = df[col].map(_as_date)
    return df[AGENDA_COLUMNS]


@privacy.case_level
def agenda_counts(conn, f: Filters, viewer, thresholds) -> dict[str, int]:
    """How many cases the agenda holds in all (``"all"``) and for each reason of
    ``REASONS`` (a case with two reasons counts once in "all", once in each reason)."""
    reasons = _reasons_select(f, conn.dialect.name, thresholds).cte("reasons").prefix_with("MATERIALIZED")
    stmt = sa.union_all(
        sa.select(reasons.c.reason, sa.func.count(sa.distinct(reasons.c.case_id)).label("cases"))
        .group_by(reasons.c.reason),
        sa.select(sa.literal_column("'all'", sa.String).label("reason"),
                  sa.func.count(sa.distinct(reasons.c.case_id)).label("cases")),
    )
    got = {row.reason: int(row.cases) for row in conn.execute(stmt)}
    return {key: got.get(key, 0) for key in ("all", *REASONS)}


# ---------------------------------------------------------------- one case
def _case_id(f: Filters, code: str):
    """The id of the case with this code, if the filters (region scope included) cover it."""
    return sa.select(c.c.id).where(c.c.code == code, *f.case_clauses()).scalar_subquery()


@privacy.case_level
def case_header(conn, f: Filters, viewer, code: str) -> pd.DataFrame:
    """One row for the case ``code`` (none when it is outside the filters or the viewer's
    regions): case_code, sex, age_band, nationality, region, region_name, case_status,
    current_stage, trafficking_status, holder, holder_name. No personal data."""
    holder = o.alias("holder")
    stmt = (
        sa.select(
            c.c.code.label("case_code"), c.c.sex, c.c.age_band, c.c.nationality, rg.c.code.label("region"),
            rg.c.name.label("region_name"), c.c.case_status, c.c.current_stage, c.c.trafficking_status,
            holder.c.code.label("holder"), holder.c.name.label("holder_name"),
        )
        .select_from(c.join(rg, rg.c.id == c.c.region_id).outerjoin(holder, holder.c.id == c.c.owner_org_id))
        .where(c.c.id == _case_id(f, code))
    )
    return frame(conn, stmt)


@privacy.case_level
def case_timeline(conn, f: Filters, viewer, code: str) -> pd.DataFrame:
    """Everything dated about the case ``code``, in date order (empty when the case is
    outside the filters or the viewer's regions). One row per item:

    kind (``TIMELINE_KINDS``: stage, justice, referral, service, stay), item (stage code,
    service type, or shelter code), start_on, end_on (decision date of a referral, end of
    a service, exit of a stay; NULL while open; NULL for stage events), acknowledged_on
    (referrals), org (name: where a stage event happened, the sender of a referral, the
    provider of a service, the shelter of a stay), to_org (the receiver of a referral),
    outcome (judgement outcome, referral outcome), detail (decline reason, exit destination)."""
    cid = _case_id(f, code)
    nd = sa.cast(sa.null(), sa.Date)
    ns = sa.cast(sa.null(), sa.String)
    sender, receiver, provider, stage_org = o.alias("sender"), o.alias("receiver"), o.alias("provider"), o.alias("at")

    def cols(kind, order, item, start, end, ack, org, to_org, outcome, detail):
        if isinstance(order, int):
            order = sa.literal_column(str(order), sa.Integer)
        return (kind.label("kind"), order.label("kind_order"), item.label("item"),
                start.label("start_on"), end.label("end_on"), ack.label("acknowledged_on"), org.label("org"),
                to_org.label("to_org"), outcome.label("outcome"), detail.label("detail"))

    justice = se.c.stage.in_(JUSTICE_STEPS)
    # same day: the referral chain in its order, then the justice track, referrals, services, stays
    step = sa.case(*((se.c.stage == s, i) for i, s in enumerate((*STAGES, *JUSTICE_STEPS))), else_=19)
    stages = (
        sa.select(*cols(sa.case((justice, "justice"), else_="stage"), step, se.c.stage,
                        se.c.occurred_on, nd, nd, stage_org.c.name, ns, se.c.outcome, ns))
        .select_from(se.outerjoin(stage_org, stage_org.c.id == se.c.organisation_id))
        .where(se.c.case_id == cid)
    )
    referrals = (
        sa.select(*cols(sa.literal_column("'referral'", sa.String), 20, r.c.service_type, r.c.sent_on, r.c.decided_on,
                        r.c.acknowledged_on, sender.c.name, receiver.c.name, r.c.outcome, r.c.decline_reason))
        .select_from(r.join(sender, sender.c.id == r.c.from_org_id).join(receiver, receiver.c.id == r.c.to_org_id))
        .where(r.c.case_id == cid)
    )
    services = (
        sa.select(*cols(sa.literal_column("'service'", sa.String), 30, sv.c.service_type, sv.c.started_on, sv.c.ended_on,
                        nd, provider.c.name, ns, ns, ns))
        .select_from(sv.join(provider, provider.c.id == sv.c.provider_org_id))
        .where(sv.c.case_id == cid)
    )
    stays = (
        sa.select(*cols(sa.literal_column("'stay'", sa.String), 40, sh.c.code, ss.c.entered_on, ss.c.exited_on, nd,
                        sh.c.name, ns, ns, ss.c.exit_destination))
        .select_from(ss.join(sh, sh.c.id == ss.c.shelter_id))
        .where(ss.c.case_id == cid)
    )
    union = sa.union_all(stages, referrals, services, stays).subquery("timeline")
    stmt = sa.select(*(col for col in union.c if col.name != "kind_order")).order_by(
        union.c.start_on, union.c.kind_order, union.c.item
    )
    df = frame(conn, stmt)
    for col in ("start_on", "end_on", "acknowledged_on"):
        df[col] = df[col].map(_as_date) if not df.empty else df[col]
    return df


def _as_date(value):
    """A date from what the driver returns (date, datetime, ISO text or NULL)."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return None
    if hasattr(value, "date") and callable(value.date):
        return value.date()
    if isinstance(value, str):
        from datetime import date

        return date.fromisoformat(value[:10])
    return value


# ---------------------------------------------------------------- in words (screens, print, CSV)
WHY_TEXTS = {
    "overdue_one": N_("Referral to {org} overdue: {days} d past target"),
    "overdue_many": N_("{n} referrals overdue, the most overdue to {org}: {days} d past target"),
    "no_assistance": N_("No assistance since identification on {date}: {days} d past threshold"),
    "long_stay": N_("In a shelter since {date}: {days} d past threshold"),
    "no_movement": N_("Nothing recorded since {date}: {days} d past threshold"),
}
AGENDA_HEADERS = {
    "case_code": N_("Case"),
    "days_past": N_("Days past threshold"),
    "why": N_("Why it is on the agenda"),
    "holder_name": N_("Held by"),
    "region_name": N_("Region"),
    "sex": N_("Sex"),
    "age_band": N_("Age band"),
    "case_status": N_("Status"),
    "current_stage": N_("Stage"),
}
REFERRAL_OUTCOME_LABELS = {"accepted": N_("Accepted"), "declined": N_("Declined")}
_UNKNOWN = {"unknown": N_("Unknown")}


def _present(value) -> bool:
    return value is not None and not pd.isna(value)


def why(row, t) -> list[str]:
    """The reasons of one agenda row, in words (``t``: a dashboard.i18n.Translator)."""
    out = []
    if _present(row["overdue_referral_days"]):
        org = row["waiting_on_name"] if _present(row["waiting_on_name"]) else "—"
        n = int(row["overdue_referrals"])
        key = "overdue_one" if n <= 1 else "overdue_many"
        out.append(t.gettext(WHY_TEXTS[key]).format(org=org, n=t.number(n), days=t.number(int(row["overdue_referral_days"]))))
    for reason, since in (("no_assistance", "identified_on"), ("long_stay", "stay_entered_on"),
                          ("no_movement", "last_movement_on")):
        days = row[f"{reason}_days"]
        if _present(days):
            when = t.date(row[since]) if _present(row[since]) else "—"
            out.append(t.gettext(WHY_TEXTS[reason]).format(date=when, days=t.number(int(days))))
    return out


def agenda_table(df: pd.DataFrame, t, sep: str = " · ") -> pd.DataFrame:
    """The agenda in words, for screens, print and CSV: the columns of ``AGENDA_HEADERS``
    (codes turned into labels in the translator's language; headers left to the caller)."""
    from dashboard.domain import CASE_STATUS_LABELS, SEX_LABELS, STAGE_LABELS

    if df.empty:
        return pd.DataFrame(columns=list(AGENDA_HEADERS))
    out = pd.DataFrame({
        "case_code": df["case_code"],
        "days_past": df["days_past"].astype(int),
        "why": [sep.join(why(row, t)) for _, row in df.iterrows()],
        "holder_name": df["holder_name"].where(df["holder_name"].notna(), "—"),
        "region_name": df["region_name"],
        "sex": [t.label(SEX_LABELS, v) for v in df["sex"]],
        "age_band": [t.label(_UNKNOWN, v) if v == "unknown" else v for v in df["age_band"]],
        "case_status": [t.label(CASE_STATUS_LABELS, v) for v in df["case_status"]],
        "current_stage": [t.label(STAGE_LABELS, v) for v in df["current_stage"]],
    })
    return out.reset_index(drop=True)


TIMELINE_HEADERS = {
    "date": N_("Date"),
    "until": N_("Until"),
    "track": N_("Track"),
    "what": N_("What"),
    "org": N_("Organisation"),
    "detail": N_("Details"),
}


def timeline_rows(tl: pd.DataFrame, t, today) -> pd.DataFrame:
    """The timeline of :func:`case_timeline` in words: the columns of ``TIMELINE_HEADERS``
    (dates formatted) plus, for the chart, kind, start, end (today for open items, the start
    for single events), is_event and is_open."""
    from dashboard.domain import (DECLINE_REASON_LABELS, EXIT_DESTINATION_LABELS, JUDGEMENT_LABELS, JUSTICE_LABELS,
                                  SERVICE_LABELS, STAGE_LABELS)

    cols = [*TIMELINE_HEADERS, "kind", "start", "end", "is_event", "is_open"]
    if tl.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for _, x in tl.iterrows():
        kind, start, end = x["kind"], x["start_on"], x["end_on"] if _present(x["end_on"]) else None
        org = x["org"] if _present(x["org"]) else ""
        detail = ""
        if kind in ("stage", "justice"):
            what = t.label(STAGE_LABELS if kind == "stage" else JUSTICE_LABELS, x["item"])
            if _present(x["outcome"]):
                detail = t.label(JUDGEMENT_LABELS, x["outcome"])
        elif kind == "referral":
            service = t.label(SERVICE_LABELS, x["item"]) if _present(x["item"]) else ""
            what = t.gettext(N_("Referral: {service}")).format(service=service) if service else t.gettext(N_("Referral"))
            org = f"{org} → {x['to_org']}"
            parts = []
            if _present(x["acknowledged_on"]):
                parts.append(t.gettext(N_("acknowledged {date}")).format(date=t.date(x["acknowledged_on"], "short")))
            if end is not None:
                outcome = t.label(REFERRAL_OUTCOME_LABELS, x["outcome"]) if _present(x["outcome"]) else "—"
                if _present(x["detail"]):
                    outcome += f" ({t.label(DECLINE_REASON_LABELS, x['detail'])})"
                parts.append(t.gettext(N_("decided {date}: {outcome}")).format(date=t.date(end, "short"), outcome=outcome))
            else:
                parts.append(t.gettext(N_("no decision yet")))
            detail = ", ".join(parts)
        elif kind == "service":
            what = t.label(SERVICE_LABELS, x["item"])
        else:
            what = t.gettext(N_("Shelter stay"))
            if _present(x["detail"]):
                detail = t.gettext(N_("left for: {destination}")).format(
                    destination=t.label(EXIT_DESTINATION_LABELS, x["detail"]))
        is_event = kind in ("stage", "justice")
        is_open = not is_event and end is None
        if is_event:
            until = ""
        elif is_open:
            until = t.gettext(N_("ongoing")) if kind != "referral" else t.gettext(N_("pending"))
        else:
            until = t.date(end, "short")
        rows.append({
            "date": t.date(start, "short"), "until": until, "track": t.gettext(TIMELINE_KIND_LABELS[kind]), "what": what,
            "org": org, "detail": detail, "kind": kind, "start": start,
            "end": start if is_event else (end if end is not None else today), "is_event": is_event,
            "is_open": is_open,
        })
    return pd.DataFrame(rows, columns=cols)
