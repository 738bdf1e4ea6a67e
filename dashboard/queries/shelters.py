"""Shelters: occupancy, bed utilisation, capacity, flows and length of stay.

Definitions (../shared/DOMAIN.md, HUD HMIS):

* **A night belongs to a stay** when ``entered_on ≤ night < exited_on``; a stay still open
  counts up to today, exclusive (``exit = today``). A stay that enters and leaves on the
  same day occupies no night.
* **Nights of the period** are the days from ``f.start`` to ``min(f.end, f.today − 1)``:
  tonight is not over yet, and an open stay does not count on it.
* **Capacity is dated**: the beds of a night are those of the ``shelter_capacity`` row with
  ``valid_from ≤ night < valid_to`` (``valid_to`` NULL = still valid); if rows overlap, the
  one that started last wins. A night with no such row is a **capacity gap**: it is left out
  of both the numerator and the denominator of utilisation and reported by
  :func:`capacity_gaps`, never counted as zero beds.
* **Bed utilisation** over a set of nights = bed-nights used ÷ bed-nights available
  = Σ people present each night ÷ Σ beds each night (nights with capacity only).
* **Over capacity**: a night on which, in some bed category, more people are present than
  that category has beds, or on which all people present exceed all beds.
* **Bed category of a person** (:func:`bed_category`): women / men / girls / boys from
  ``cases.sex`` and whether the person is a child: ``cases.is_minor``, or when it is not
  recorded, the age band (0-8, 9-17 = child; other known bands = adult). People whose sex
  is ``trans_nonconforming`` or ``unknown``, or whose age is not known at all, are *not
  assigned* to a category: they count in the shelter's total occupancy (they use a bed)
  and against its total beds, but against no category's beds.
* **Occupancy today** = people in the shelter tonight: ``entered_on ≤ today`` and no exit or
  ``exited_on > today`` (as on the home page).
* **Length of stay** = ``exited_on − entered_on`` in days, for stays whose exit falls in the
  period: median, mean and n.
* **Entries / exits** count by their own date (in-period rule).
* **Long open stay**: no exit, and ``today − entered_on`` above the country profile's
  ``review.long_stay_days``.

Region filters select shelters by the shelter's own region (a person from another region
placed here counts here). Occupancy and utilisation count everyone present, whatever the
case filters (beds are shared); flows and lengths of stay also apply the sex, age group and
exploitation filters of the cases.

Nightly occupancy is computed in SQL, on SQLite and PostgreSQL alike: a recursive CTE of
the nights of the period, crossed with the shelters (O(nights × shelters) rows), a running
sum of +1 / −1 events (an entry, clamped to the first night, and an exit) per shelter, and
the dated capacity of each night. Stays are never expanded into one row per night.
"""
from __future__ import annotations

import functools
from dataclasses import replace
from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa

from dashboard import privacy, schema
from dashboard.db import date_param, days_diff, dialect_of, frame, month_key, percentiles, week_key
from dashboard.domain import AGE_BANDS, BED_CATEGORIES, MINOR_BANDS, N_
from dashboard.filters import Filters

c, sh, cap, st, r, reg, org = (schema.cases, schema.shelters, schema.shelter_capacity, schema.shelter_stays,
                               schema.referrals, schema.regions, schema.organisations)

UNASSIGNED = "unassigned"
CATEGORIES = (*BED_CATEGORIES, UNASSIGNED)  # women, men, girls, boys, unassigned
CATEGORY_LABELS = {"women": N_("Women"), "men": N_("Men"), "girls": N_("Girls"), "boys": N_("Boys"),
                   UNASSIGNED: N_("Not assigned")}
AGE_GROUP_LABELS = {"adult": N_("Adult"), "child": N_("Child"), "unknown": N_("Age unknown")}
NO_DESTINATION = "not_recorded"
NO_DESTINATION_LABEL = N_("Not recorded")
DEFAULT_LONG_STAY_DAYS = 90
DEFAULT_FULL_PCT = 90
SECONDARY_LABEL = "*"  # a count hidden so that a hidden cell cannot be worked out from a total


# ---------------------------------------------------------------- small helpers
def review_thresholds(conn, f: Filters | None = None) -> dict:
    """The country profile's review thresholds used here: ``long_stay_days`` and
    ``shelter_full_pct`` (defaults 90 and 90 when the database names no readable profile)."""
    from dashboard.reference import profile_of

    return dict(_profile_review(profile_of(conn)))


@functools.lru_cache(maxsize=8)
def _profile_review(name: str | None) -> tuple:
    from dashboard.profiles import ProfileError, load_profile

    out = {"long_stay_days": DEFAULT_LONG_STAY_DAYS, "shelter_full_pct": DEFAULT_FULL_PCT}
    if name:
        try:
            review = load_profile(name).review
            out = {"long_stay_days": review.long_stay_days, "shelter_full_pct": review.shelter_full_pct}
        except (ProfileError, OSError):
            pass
    return tuple(out.items())


def last_night(f: Filters) -> date:
    """The last night of the period that is over: ``min(end, today − 1)``."""
    return min(f.end, f.today - timedelta(days=1))


def _child(cases=c):
    return sa.or_(cases.c.is_minor.is_(True), sa.and_(cases.c.is_minor.is_(None), cases.c.age_band.in_(sorted(MINOR_BANDS))))


def _adult(cases=c):
    known_adult = [b for b in AGE_BANDS if b not in MINOR_BANDS and b != "unknown"]
    return sa.or_(cases.c.is_minor.is_(False), sa.and_(cases.c.is_minor.is_(None), cases.c.age_band.in_(known_adult)))


def bed_category(cases=c):
    """SQL expression: the bed category of a case (see the module docstring)."""
    female, male = cases.c.sex == "female", cases.c.sex == "male"
    return sa.case(
        (sa.and_(female, _child(cases)), "girls"),
        (sa.and_(female, _adult(cases)), "women"),
        (sa.and_(male, _child(cases)), "boys"),
        (sa.and_(male, _adult(cases)), "men"),
        else_=UNASSIGNED,
    )


def age_group(cases=c):
    """SQL expression: 'child', 'adult' or 'unknown' (is_minor, else the age band)."""
    return sa.case((_child(cases), "child"), (_adult(cases), "adult"), else_="unknown")


def _case_filters(f: Filters) -> list:
    """Sex, age group and exploitation conditions on cases, without the region (regions
    select shelters here)."""
    return replace(f, regions=(), scope=None).case_clauses()


def shelter_clause(f: Filters, shelters: tuple[str, ...] = (), table=sh):
    """Shelters in the filters' regions (the shelter's region), optionally only some codes."""
    clause = f.region_clause(table.c.region_id)
    if shelters:
        clause = sa.and_(clause, table.c.code.in_(list(shelters)))
    return clause


def _shelter_ids(f: Filters, shelters: tuple[str, ...] = ()):
    return sa.select(sh.c.id).where(shelter_clause(f, shelters))


def _next_day(col, dialect: str):
    if dialect == "postgresql":
        return col + 1  # date + integer = date
    return sa.func.date(col, "+1 day")


def nights_cte(first: date, last: date, dialect: str, name: str = "nights"):
    """A recursive CTE ``nights(night)``: every day from ``first`` to ``last`` (inclusive).
    Same SQL shape on SQLite and PostgreSQL; dates are ISO text on SQLite, DATE on PostgreSQL."""
    anchor = sa.select(sa.cast(date_param(first), sa.Date).label("night")) if dialect == "postgresql" \
        else sa.select(date_param(first).label("night"))
    nights = anchor.cte(name, recursive=True)
    step = sa.select(_next_day(nights.c.night, dialect).label("night")).where(nights.c.night < date_param(last))
    return nights.union_all(step)


def _bucket(col, bucket: str | None, dialect: str):
    if bucket == "week":
        return week_key(col, dialect)
    if bucket == "month":
        return month_key(col, dialect)
    if bucket is None:
        return sa.literal("all")
    raise ValueError(f"unknown bucket {bucket!r}")


# ---------------------------------------------------------------- nightly occupancy
def nightly_select(f: Filters, dialect: str, shelters: tuple[str, ...] = ()) -> sa.Select | None:
    """One row per (shelter, night of the period): people present by bed category
    (``occ_women`` … ``occ_unassigned``, ``occ_total``), ``arrivals`` (stays whose first
    counted night this is), and that night's beds (``beds_women`` … ``beds_total``, all NULL
    on a night without capacity). None when the period has no night that is over."""
    first, last = f.start, last_night(f)
    if last < first:
        return None
    first_p, last_p, today_p = date_param(first), date_param(last), date_param(f.today)
    nights = nights_cte(first, last, dialect)
    ids = _shelter_ids(f, shelters)

    # +1 on the first counted night of each stay, −1 on its exit (if within the nights)
    exit_eff = sa.func.coalesce(st.c.exited_on, today_p)
    entry_eff = sa.case((st.c.entered_on < first_p, first_p), else_=st.c.entered_on)
    stays = (
        sa.select(st.c.shelter_id, entry_eff.label("entry"), exit_eff.label("exit"), bed_category().label("cat"))
        .select_from(st.join(c, c.c.id == st.c.case_id))
        .where(st.c.shelter_id.in_(ids), st.c.entered_on <= last_p, exit_eff > first_p, exit_eff > st.c.entered_on)
        .subquery("stays")
    )
    arrivals = sa.select(stays.c.shelter_id, stays.c.entry.label("day"), stays.c.cat,
                         sa.literal(1).label("delta"), sa.literal(1).label("arrival"))
    departures = sa.select(stays.c.shelter_id, stays.c.exit.label("day"), stays.c.cat,
                           sa.literal(-1).label("delta"), sa.literal(0).label("arrival")).where(stays.c.exit <= last_p)
    events = sa.union_all(arrivals, departures).subquery("events")
    deltas = (
        sa.select(
            events.c.shelter_id,
            events.c.day,
            *[sa.func.sum(sa.case((events.c.cat == cat, events.c.delta), else_=0)).label(f"d_{cat}") for cat in CATEGORIES],
            sa.func.sum(events.c.delta).label("d_total"),
            sa.func.sum(events.c.arrival).label("arrivals"),
        )
        .group_by(events.c.shelter_id, events.c.day)
        .subquery("deltas")
    )

    grid = (
        sa.select(sh.c.id.label("shelter_id"), sh.c.region_id, nights.c.night)
        .select_from(sh.join(nights, sa.true()))
        .where(sh.c.id.in_(ids))
        .subquery("grid")
    )
    cap2 = cap.alias("cap2")
    current_cap = (
        sa.select(cap2.c.id)
        .where(cap2.c.shelter_id == grid.c.shelter_id, cap2.c.valid_from <= grid.c.night,
               sa.or_(cap2.c.valid_to.is_(None), grid.c.night < cap2.c.valid_to))
        .order_by(cap2.c.valid_from.desc())
        .limit(1)
        .scalar_subquery()
    )
    window = {"partition_by": grid.c.shelter_id, "order_by": grid.c.night}

    def running(col):
        return sa.cast(sa.func.sum(sa.func.coalesce(col, 0)).over(**window), sa.Integer)

    beds = [cap.c[f"beds_{cat}"] for cat in BED_CATEGORIES]
    return (
        sa.select(
            grid.c.shelter_id,
            grid.c.region_id,
            grid.c.night,
            *[running(deltas.c[f"d_{cat}"]).label(f"occ_{cat}") for cat in CATEGORIES],
            running(deltas.c.d_total).label("occ_total"),
            sa.cast(sa.func.coalesce(deltas.c.arrivals, 0), sa.Integer).label("arrivals"),
            *[b.label(f"beds_{cat}") for b, cat in zip(beds, BED_CATEGORIES)],
            (beds[0] + beds[1] + beds[2] + beds[3]).label("beds_total"),
        )
        .select_from(
            grid.outerjoin(deltas, sa.and_(deltas.c.shelter_id == grid.c.shelter_id, deltas.c.day == grid.c.night))
            .outerjoin(cap, cap.c.id == current_cap)
        )
    )


def _over(n):
    """SQL condition on a nightly row: over capacity (some category, or in total)."""
    return sa.and_(
        n.c.beds_total.is_not(None),
        sa.or_(*[n.c[f"occ_{cat}"] > n.c[f"beds_{cat}"] for cat in BED_CATEGORIES], n.c.occ_total > n.c.beds_total),
    )


_UTIL_COLUMNS = ["bed_nights_used", "bed_nights_available", "utilisation", "people", "nights",
                 "nights_with_capacity", "nights_without_capacity", "nights_over_capacity"]


def _utilisation_frame(conn, f: Filters, by: str, bucket: str | None, shelters: tuple[str, ...] = ()) -> pd.DataFrame:
    """Aggregate the nightly rows by ``by`` ('shelter', 'region' or 'all') and ``bucket``
    (None, 'week', 'month'). Columns: keys, [period], bed_nights_used, bed_nights_available,
    utilisation (None without capacity), people (stays present on at least one night of
    the group, summed over shelters), nights, nights_with_capacity, nights_without_capacity,
    nights_over_capacity (shelter-nights)."""
    dialect = dialect_of(conn)
    keys_out = {"shelter": ["shelter_code", "shelter", "region"], "region": ["region_code", "region"], "all": []}[by]
    period_out = ["period"] if bucket else []
    nightly = nightly_select(f, dialect, shelters)
    if nightly is None:
        return pd.DataFrame(columns=keys_out + period_out + _UTIL_COLUMNS)
    n = nightly.subquery("nightly")
    b = _bucket(n.c.night, bucket, dialect)
    # first night of each (shelter, bucket): people = those present then + later arrivals
    staged = sa.select(
        n, b.label("period"),
        sa.func.min(n.c.night).over(partition_by=[n.c.shelter_id, b] if bucket else n.c.shelter_id).label("first_night"),
    ).subquery("staged")
    s = staged
    has_cap = s.c.beds_total.is_not(None)
    measures = [
        sa.func.coalesce(sa.func.sum(sa.case((has_cap, s.c.occ_total), else_=0)), 0).label("bed_nights_used"),
        sa.func.coalesce(sa.func.sum(s.c.beds_total), 0).label("bed_nights_available"),
        sa.func.sum(sa.case((s.c.night == s.c.first_night, s.c.occ_total), else_=s.c.arrivals)).label("people"),
        sa.func.count().label("nights"),
        sa.func.sum(sa.case((has_cap, 1), else_=0)).label("nights_with_capacity"),
        sa.func.sum(sa.case((has_cap, 0), else_=1)).label("nights_without_capacity"),
        sa.func.sum(sa.case((_over(s), 1), else_=0)).label("nights_over_capacity"),
    ]
    if by == "shelter":
        keys = [sh.c.code.label("shelter_code"), sh.c.name.label("shelter"), reg.c.name.label("region")]
        src = s.join(sh, sh.c.id == s.c.shelter_id).join(reg, reg.c.id == sh.c.region_id)
        order = [sh.c.name]
    elif by == "region":
        keys = [reg.c.code.label("region_code"), reg.c.name.label("region")]
        src = s.join(reg, reg.c.id == s.c.region_id)
        order = [reg.c.name]
    else:
        keys, src, order = [], s, []
    period = [s.c.period] if bucket else []
    stmt = sa.select(*keys, *period, *measures).select_from(src)
    group = [*keys, *period]
    if group:
        stmt = stmt.group_by(*group).order_by(*order, *period)
    df = frame(conn, stmt)
    if by == "all" and (df.empty or df["nights"].iloc[0] == 0):
        return pd.DataFrame(columns=keys_out + period_out + _UTIL_COLUMNS)
    for col in ("bed_nights_used", "bed_nights_available", "people", "nights", "nights_with_capacity",
                "nights_without_capacity", "nights_over_capacity"):
        df[col] = pd.to_numeric(df[col]).fillna(0).astype(int)
    df["utilisation"] = [u / a if a else None for u, a in zip(df["bed_nights_used"], df["bed_nights_available"])]
    return df[keys_out + period_out + _UTIL_COLUMNS].reset_index(drop=True)


def utilisation(conn, f: Filters, shelters: tuple[str, ...] = ()) -> pd.DataFrame:
    """Bed utilisation over the period, one row per shelter of the selected regions.

    Columns: shelter_code, shelter, region, bed_nights_used (Σ people present per night),
    bed_nights_available (Σ beds per night), utilisation = used ÷ available (None when no
    night of the period has capacity), people (stays present on at least one night, the n
    of the rate), nights (nights of the period: start … min(end, today − 1)),
    nights_with_capacity, nights_without_capacity (left out of both sums; see
    :func:`capacity_gaps`), nights_over_capacity (some bed category, or the total, over its
    beds). A night belongs to a stay when entry ≤ night < exit (open: exit = today)."""
    return _utilisation_frame(conn, f, "shelter", None, shelters)


def overall_utilisation(conn, f: Filters, shelters: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row: bed_nights_used, bed_nights_available, utilisation (= used ÷ available, None
    when nothing is available) over every shelter of the selected regions and every night
    of the period; a shelter's nights without recorded capacity are left out of both
    numerator and denominator (listed by :func:`capacity_gaps`). Also ``people`` (the n of
    the rate), nights, nights_without_capacity and nights_over_capacity (shelter-nights).
    Empty frame when the period has no night that is over or no shelter is selected."""
    return _utilisation_frame(conn, f, "all", None, shelters)


def utilisation_series(conn, f: Filters, by: str = "shelter", bucket: str = "month",
                       shelters: tuple[str, ...] = ()) -> pd.DataFrame:
    """Bed utilisation per week (``period`` = ISO date of the Monday) or month (``YYYY-MM``),
    by shelter (``by='shelter'``) or by region of the shelters (``by='region'``). Same
    columns and definitions as :func:`utilisation`; a week or month at the edge of the period
    counts only its nights inside the period."""
    return _utilisation_frame(conn, f, by, bucket, shelters)


def capacity_gaps(conn, f: Filters, shelters: tuple[str, ...] = ()) -> pd.DataFrame:
    """Shelters with nights of the period for which no capacity is recorded: shelter_code,
    shelter, region, nights_without_capacity, nights, first_night, last_night (first and last
    such night). These nights are left out of utilisation (not counted as zero beds)."""
    dialect = dialect_of(conn)
    cols = ["shelter_code", "shelter", "region", "nights_without_capacity", "nights", "first_night", "last_night"]
    nightly = nightly_select(f, dialect, shelters)
    if nightly is None:
        return pd.DataFrame(columns=cols)
    n = nightly.subquery("nightly")
    gap = n.c.beds_total.is_(None)
    stmt = (
        sa.select(
            sh.c.code.label("shelter_code"), sh.c.name.label("shelter"), reg.c.name.label("region"),
            sa.func.sum(sa.case((gap, 1), else_=0)).label("nights_without_capacity"),
            sa.func.count().label("nights"),
            sa.func.min(sa.case((gap, n.c.night))).label("first_night"),
            sa.func.max(sa.case((gap, n.c.night))).label("last_night"),
        )
        .select_from(n.join(sh, sh.c.id == n.c.shelter_id).join(reg, reg.c.id == sh.c.region_id))
        .group_by(sh.c.code, sh.c.name, reg.c.name)
        .having(sa.func.sum(sa.case((gap, 1), else_=0)) > 0)
        .order_by(sh.c.name)
    )
    df = frame(conn, stmt)
    for col in ("first_night", "last_night"):
        df[col] = [date.fromisoformat(v) if isinstance(v, str) else v for v in df[col]]
    for col in ("nights_without_capacity", "nights"):
        df[col] = pd.to_numeric(df[col]).astype(int)
    return df[cols]


def over_capacity_nights(conn, f: Filters, shelters: tuple[str, ...] = ()) -> pd.DataFrame:
    """Every (shelter, night) of the period over capacity: shelter_code, shelter, night,
    occ_total, beds_total, and the categories over their beds (``over`` = comma-separated
    bed categories, 'total' when only the total is over). Nights are shelter facts, not case
    facts; the page shows them at month precision to aggregate-only viewers."""
    dialect = dialect_of(conn)
    cols = ["shelter_code", "shelter", "night", "occ_total", "beds_total", "over"]
    nightly = nightly_select(f, dialect, shelters)
    if nightly is None:
        return pd.DataFrame(columns=cols)
    n = nightly.subquery("nightly")
    stmt = (
        sa.select(sh.c.code.label("shelter_code"), sh.c.name.label("shelter"), n.c.night, n.c.occ_total, n.c.beds_total,
                  *[n.c[f"occ_{cat}"] for cat in BED_CATEGORIES], *[n.c[f"beds_{cat}"] for cat in BED_CATEGORIES])
        .select_from(n.join(sh, sh.c.id == n.c.shelter_id))
        .where(_over(n))
        .order_by(sh.c.name, n.c.night)
    )
    df = frame(conn, stmt)
    if df.empty:
        return pd.DataFrame(columns=cols)
    df["night"] = [date.fromisoformat(v) if isinstance(v, str) else v for v in df["night"]]
    df["over"] = [
        ",".join([cat for cat in BED_CATEGORIES if row[f"occ_{cat}"] > row[f"beds_{cat}"]]) or "total"
        for _, row in df.iterrows()
    ]
    return df[cols]


# ---------------------------------------------------------------- today
def shelter_list(conn, f: Filters) -> pd.DataFrame:
    """Shelters of the selected regions: shelter_code, shelter, region (by name)."""
    stmt = (
        sa.select(sh.c.code.label("shelter_code"), sh.c.name.label("shelter"), reg.c.name.label("region"))
        .select_from(sh.join(reg, reg.c.id == sh.c.region_id))
        .where(shelter_clause(f))
        .order_by(sh.c.name)
    )
    return frame(conn, stmt)


def occupancy_today(conn, f: Filters, shelters: tuple[str, ...] = ()) -> pd.DataFrame:
    """People in each shelter tonight (entered_on ≤ today, no exit or exited_on > today)
    against the beds of today's capacity row, one row per shelter of the selected regions.

    Columns: shelter_code, shelter, region, has_capacity (False: no capacity recorded for
    today, beds are then None), occ_<category> and beds_<category> for women, men, girls,
    boys (occ_unassigned: people not assigned to a bed category, see
    :func:`bed_category`), occ_total, beds_total, occupancy = occ_total ÷ beds_total (None
    without beds)."""
    today_p = date_param(f.today)
    present = (
        sa.select(st.c.shelter_id, *[sa.func.sum(sa.case((bed_category() == cat, 1), else_=0)).label(f"occ_{cat}")
                                     for cat in CATEGORIES], sa.func.count().label("occ_total"))
        .select_from(st.join(c, c.c.id == st.c.case_id))
        .where(st.c.entered_on <= today_p, sa.or_(st.c.exited_on.is_(None), st.c.exited_on > today_p))
        .group_by(st.c.shelter_id)
        .subquery("present")
    )
    cap2 = cap.alias("cap2")
    current_cap = (
        sa.select(cap2.c.id)
        .where(cap2.c.shelter_id == sh.c.id, cap2.c.valid_from <= today_p,
               sa.or_(cap2.c.valid_to.is_(None), cap2.c.valid_to > today_p))
        .order_by(cap2.c.valid_from.desc())
        .limit(1)
        .scalar_subquery()
    )
    beds = [cap.c[f"beds_{cat}"] for cat in BED_CATEGORIES]
    stmt = (
        sa.select(
            sh.c.code.label("shelter_code"), sh.c.name.label("shelter"), reg.c.name.label("region"),
            cap.c.id.is_not(None).label("has_capacity"),
            *[sa.func.coalesce(present.c[f"occ_{cat}"], 0).label(f"occ_{cat}") for cat in CATEGORIES],
            sa.func.coalesce(present.c.occ_total, 0).label("occ_total"),
            *[b.label(f"beds_{cat}") for b, cat in zip(beds, BED_CATEGORIES)],
            (beds[0] + beds[1] + beds[2] + beds[3]).label("beds_total"),
        )
        .select_from(
            sh.join(reg, reg.c.id == sh.c.region_id)
            .outerjoin(present, present.c.shelter_id == sh.c.id)
            .outerjoin(cap, cap.c.id == current_cap)
        )
        .where(shelter_clause(f, shelters))
        .order_by(sh.c.name)
    )
    df = frame(conn, stmt)
    for col in [f"occ_{cat}" for cat in CATEGORIES] + ["occ_total"]:
        df[col] = pd.to_numeric(df[col]).astype(int)
    for col in [f"beds_{cat}" for cat in BED_CATEGORIES] + ["beds_total"]:
        df[col] = [None if pd.isna(v) else int(v) for v in df[col]]
    df["has_capacity"] = df["has_capacity"].astype(bool)
    df["occupancy"] = [o / b if b else None for o, b in zip(df["occ_total"], df["beds_total"])]
    return df


def full_flags(df: pd.DataFrame, full_pct: int) -> pd.DataFrame:
    """For a (protected) :func:`occupancy_today` frame: ``full`` (total occupancy ≥ full_pct %)
    and ``full_<category>`` (people ≥ full_pct % of that category's beds, or people in a
    category without beds). Cells hidden by privacy never raise a flag."""
    out = df.copy()
    limit = full_pct / 100 - 1e-9
    occ = pd.to_numeric(out["occupancy"], errors="coerce")
    out["full"] = [bool(pd.notna(v) and v >= limit) for v in occ]
    for cat in BED_CATEGORIES:
        people = pd.to_numeric(out[f"occ_{cat}"], errors="coerce")
        beds = pd.to_numeric(out[f"beds_{cat}"], errors="coerce")
        out[f"full_{cat}"] = [
            bool(pd.notna(p) and pd.notna(b) and ((b > 0 and p >= limit * b) or (b == 0 and p > 0)))
            for p, b in zip(people, beds)
        ]
    return out


# ---------------------------------------------------------------- flows
def _stays_in_scope(f: Filters, shelters: tuple[str, ...] = ()):
    return [st.c.shelter_id.in_(_shelter_ids(f, shelters)), *_case_filters(f)]


def entries_exits(conn, f: Filters, shelters: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per month (YYYY-MM): entries (stays whose entered_on falls in the period) and exits
    (stays whose exited_on falls in the period), in the selected shelters."""
    dialect = dialect_of(conn)
    base = st.join(c, c.c.id == st.c.case_id)
    ins = (sa.select(month_key(st.c.entered_on, dialect).label("month"), sa.literal(1).label("e"), sa.literal(0).label("x"))
           .select_from(base).where(f.in_period(st.c.entered_on), *_stays_in_scope(f, shelters)))
    outs = (sa.select(month_key(st.c.exited_on, dialect).label("month"), sa.literal(0).label("e"), sa.literal(1).label("x"))
            .select_from(base).where(st.c.exited_on.is_not(None), f.in_period(st.c.exited_on), *_stays_in_scope(f, shelters)))
    u = sa.union_all(ins, outs).subquery("moves")
    stmt = (sa.select(u.c.month, sa.func.sum(u.c.e).label("entries"), sa.func.sum(u.c.x).label("exits"))
            .group_by(u.c.month).order_by(u.c.month))
    df = frame(conn, stmt)
    for col in ("entries", "exits"):
        df[col] = pd.to_numeric(df[col]).astype(int)
    return df


def exit_destinations(conn, f: Filters, shelters: tuple[str, ...] = ()) -> pd.DataFrame:
    """destination (code of domain.EXIT_DESTINATIONS, or 'not_recorded'), exits — stays whose
    exit falls in the period, most frequent first."""
    dest = sa.func.coalesce(st.c.exit_destination, NO_DESTINATION).label("destination")
    stmt = (
        sa.select(dest, sa.func.count().label("exits"))
        .select_from(st.join(c, c.c.id == st.c.case_id))
        .where(st.c.exited_on.is_not(None), f.in_period(st.c.exited_on), *_stays_in_scope(f, shelters))
        .group_by(dest)
        .order_by(sa.func.count().desc(), dest)
    )
    df = frame(conn, stmt)
    df["exits"] = pd.to_numeric(df["exits"]).astype(int)
    return df


LOS_BY = ("shelter", "sex", "age_group", "all")


def length_of_stay(conn, f: Filters, by: str = "shelter", shelters: tuple[str, ...] = ()) -> pd.DataFrame:
    """Length of stay (exited_on − entered_on, days) of the stays whose exit falls in the
    period: n, median (linear interpolation, as everywhere), mean, by ``by``:
    'shelter' (shelter_code, shelter), 'sex' (sex), 'age_group' (age_group: adult, child,
    unknown) or 'all' (one row)."""
    if by not in LOS_BY:
        raise ValueError(f"unknown breakdown {by!r}")
    dialect = dialect_of(conn)
    keycols = {
        "shelter": [sh.c.code.label("shelter_code"), sh.c.name.label("shelter")],
        "sex": [c.c.sex.label("sex")],
        "age_group": [age_group().label("age_group")],
        "all": [],
    }[by]
    keys = [k.name for k in keycols]
    days = days_diff(st.c.entered_on, st.c.exited_on, dialect)
    src = st.join(c, c.c.id == st.c.case_id).join(sh, sh.c.id == st.c.shelter_id)
    where = [st.c.exited_on.is_not(None), f.in_period(st.c.exited_on), st.c.exited_on >= st.c.entered_on,
             *_stays_in_scope(f, shelters)]
    values = sa.select(*keycols, days.label("v")).select_from(src).where(*where)
    med = percentiles(conn, values, keys, quantiles={"median": 0.5})
    if med.empty:
        return pd.DataFrame(columns=keys + ["n", "median", "mean"])
    mean_stmt = sa.select(*keycols, sa.cast(sa.func.avg(days), sa.Float).label("mean")).select_from(src).where(*where)
    if keys:
        mean_stmt = mean_stmt.group_by(*keycols)
    mean = frame(conn, mean_stmt)
    df = med.merge(mean, on=keys) if keys else pd.concat([med.reset_index(drop=True), mean.reset_index(drop=True)], axis=1)
    df["n"] = pd.to_numeric(df["n"]).astype(int)
    df["median"] = pd.to_numeric(df["median"]).astype(float)
    df["mean"] = pd.to_numeric(df["mean"]).astype(float)
    if keys:
        df = df.sort_values(keys).reset_index(drop=True)
    return df[keys + ["n", "median", "mean"]]


def _shelter_referrals(f: Filters, shelters: tuple[str, ...] = ()):
    """Conditions: referrals asking for shelter (service 'shelter', or no service recorded)
    sent to an organisation that runs a shelter of the selection, decided in the period."""
    operators = sa.select(sh.c.organisation_id).where(shelter_clause(f, shelters), sh.c.organisation_id.is_not(None))
    return [r.c.to_org_id.in_(operators), sa.or_(r.c.service_type == "shelter", r.c.service_type.is_(None)),
            r.c.decided_on.is_not(None), f.in_period(r.c.decided_on), *_case_filters(f)]


def declined_no_capacity(conn, f: Filters, by: str = "month", shelters: tuple[str, ...] = ()) -> pd.DataFrame:
    """Referrals to shelters declined for lack of space (decline_reason 'no_capacity'), by
    decision date in the period: ``by='month'`` → month, declined, decided; ``by='organisation'``
    → organisation (receiving shelter operator), declined, decided. ``decided`` = all
    shelter referrals decided in the period (accepted or declined), the base of the share.
    Only groups with at least one decision."""
    dialect = dialect_of(conn)
    if by == "month":
        key = month_key(r.c.decided_on, dialect).label("month")
        src = r.join(c, c.c.id == r.c.case_id)
    elif by == "organisation":
        key = org.c.name.label("organisation")
        src = r.join(c, c.c.id == r.c.case_id).join(org, org.c.id == r.c.to_org_id)
    else:
        raise ValueError(f"unknown breakdown {by!r}")
    nocap = sa.and_(r.c.outcome == "declined", r.c.decline_reason == "no_capacity")
    stmt = (
        sa.select(key, sa.func.sum(sa.case((nocap, 1), else_=0)).label("declined"), sa.func.count().label("decided"))
        .select_from(src)
        .where(*_shelter_referrals(f, shelters))
        .group_by(key)
        .order_by(key)
    )
    df = frame(conn, stmt)
    for col in ("declined", "decided"):
        df[col] = pd.to_numeric(df[col]).astype(int)
    return df


# ---------------------------------------------------------------- long open stays
def _long_open_where(f: Filters, threshold: int, shelters: tuple[str, ...]):
    today_p = date_param(f.today)
    return [st.c.exited_on.is_(None), st.c.entered_on <= today_p,
            st.c.entered_on < date_param(f.today - timedelta(days=threshold)),
            st.c.shelter_id.in_(_shelter_ids(f, shelters))]


def long_open_stays_count(conn, f: Filters, threshold: int | None = None, shelters: tuple[str, ...] = ()) -> pd.DataFrame:
    """Stays still open today that began more than ``threshold`` days ago (default: the
    profile's review.long_stay_days), i.e. today − entered_on > threshold: one row per
    shelter with at least one (shelter_code, shelter, stays). As of today; the period
    does not apply."""
    threshold = review_thresholds(conn)["long_stay_days"] if threshold is None else threshold
    stmt = (
        sa.select(sh.c.code.label("shelter_code"), sh.c.name.label("shelter"), sa.func.count().label("stays"))
        .select_from(st.join(sh, sh.c.id == st.c.shelter_id))
        .where(*_long_open_where(f, threshold, shelters))
        .group_by(sh.c.code, sh.c.name)
        .order_by(sh.c.name)
    )
    df = frame(conn, stmt)
    df["stays"] = pd.to_numeric(df["stays"]).astype(int)
    return df


@privacy.case_level
def long_open_stays(conn, f: Filters, viewer: privacy.Viewer, threshold: int | None = None,
                    shelters: tuple[str, ...] = ()) -> pd.DataFrame:
    """Committee and administrators only: the stays counted by :func:`long_open_stays_count`,
    by pseudonymous case code: case_code, shelter, entered_on, days (today − entered_on),
    longest first. A viewer limited to some regions sees only cases of those regions."""
    threshold = review_thresholds(conn)["long_stay_days"] if threshold is None else threshold
    days = days_diff(st.c.entered_on, date_param(f.today), dialect_of(conn))
    where = _long_open_where(f, threshold, shelters)
    if viewer.regions is not None:
        where.append(c.c.region_id.in_(sa.select(reg.c.id).where(reg.c.code.in_(list(viewer.regions)))))
    stmt = (
        sa.select(c.c.code.label("case_code"), sh.c.name.label("shelter"), st.c.entered_on, days.label("days"))
        .select_from(st.join(c, c.c.id == st.c.case_id).join(sh, sh.c.id == st.c.shelter_id))
        .where(*where)
        .order_by(st.c.entered_on, c.c.code)
    )
    df = frame(conn, stmt)
    df["entered_on"] = [date.fromisoformat(v) if isinstance(v, str) else v for v in df["entered_on"]]
    df["days"] = pd.to_numeric(df["days"]).astype(int)
    return df


# ---------------------------------------------------------------- privacy helpers
def _is_suppressed(value) -> bool:
    return privacy.is_hidden(value) or (isinstance(value, str) and value == SECONDARY_LABEL)


def _smallest_positive(values: list) -> int | None:
    shown = [(v, i) for i, v in enumerate(values) if not isinstance(v, str) and pd.notna(v) and v > 0]
    return min(shown)[1] if shown else None


def _hide(df: pd.DataFrame, row: int, col: str) -> None:
    if df[col].dtype != object:
        df[col] = df[col].astype(object)
    df.iloc[row, df.columns.get_loc(col)] = SECONDARY_LABEL


def secondary_suppress(df: pd.DataFrame, parts: list[str], axis: str = "columns", total: str | None = None) -> pd.DataFrame:
    """After :func:`privacy.protect`: where exactly one part of a known total is hidden
    ("< k"), hide the smallest other positive part too (shown as ``SECONDARY_LABEL``), so the
    hidden cell cannot be worked out by subtraction.

    ``axis='columns'``: the parts are columns of each row (e.g. people by bed category); with
    ``total``, only rows whose total column is shown are treated. ``axis='rows'``: the parts
    are the rows of each column in ``parts`` (e.g. exits by destination, whose total another
    figure gives away). Frames with nothing hidden come back unchanged."""
    out = df.copy().reset_index(drop=True)
    if out.empty:
        return out
    if axis == "columns":
        for i in range(len(out)):
            if total is not None and _is_suppressed(out.at[i, total]):
                continue
            values = [out.at[i, p] for p in parts]
            if sum(_is_suppressed(v) for v in values) == 1:
                j = _smallest_positive(values)
                if j is not None:
                    _hide(out, i, parts[j])
    elif axis == "rows":
        for p in parts:
            values = list(out[p])
            if sum(_is_suppressed(v) for v in values) == 1:
                j = _smallest_positive(values)
                if j is not None:
                    _hide(out, j, p)
    else:
        raise ValueError(f"unknown axis {axis!r}")
    return out


OCCUPANCY_PARTS = [f"occ_{cat}" for cat in CATEGORIES]


def protect_occupancy(df: pd.DataFrame, viewer: privacy.Viewer, k: int) -> pd.DataFrame:
    """An :func:`occupancy_today` frame safe for ``viewer``: people by category and in total
    hidden when 1..k-1, occupancy withheld when fewer than k people; then secondary
    suppression so that no hidden cell can be recovered, neither from a shelter's total
    (categories) nor from the national total shown elsewhere (shelter totals): a shelter
    whose total is hidden to protect another one also loses its occupancy rate and one
    category. Committee members and administrators get the frame unchanged."""
    out = privacy.protect(df, viewer, k, counts=[*OCCUPANCY_PARTS, "occ_total"], stats={"occupancy": "occ_total"})
    if viewer.case_level or out.empty:
        return out
    out = secondary_suppress(out, ["occ_total"], axis="rows")
    for i in range(len(out)):
        if out.at[i, "occ_total"] == SECONDARY_LABEL:
            out["occupancy"] = out["occupancy"].astype(object)
            out.at[i, "occupancy"] = None
            values = [out.at[i, p] for p in OCCUPANCY_PARTS]
            if not any(_is_suppressed(v) for v in values):
                j = _smallest_positive(values)
                if j is not None:
                    _hide(out, i, OCCUPANCY_PARTS[j])
    return secondary_suppress(out, OCCUPANCY_PARTS, total="occ_total")
