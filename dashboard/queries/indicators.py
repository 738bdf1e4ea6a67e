"""Project indicators: results matrix, trends per quarter, progress and traffic lights.

Definitions (../shared/DOMAIN.md, and the rules this module sets):

- **Value of an indicator.** ``manual`` indicators: the value recorded for the latest period
  ending on or before the end of the chosen period; when a period was recorded more than
  once, the latest ``recorded_at`` wins (older rows stay as history). ``computed``
  indicators are computed live from case data with the page's filters (regions of the case,
  sex, age group, exploitation): **counts** (unit ``number``) are cumulative, from the
  indicator's baseline date to the end of the chosen period (at most the target date), as a
  results framework reports them; **rates** (``percent``, ``days``) are measured over the
  chosen period. Computation codes: :data:`COMPUTATIONS`.
- **Progress** = (actual − baseline) ÷ (target − baseline), capped at 0–100 %; for a
  ``decrease`` indicator both differences are negative, so baseline 20 → target 10 with
  actual 15 is 50 %.
- **Time elapsed** = (as-of date − baseline date) ÷ (target date − baseline date), capped at
  0–100 %, where the as-of date is the end of the period the value stands for.
- **Traffic light**: green when progress ≥ time elapsed − 10 points, amber when ≥ time
  elapsed − 25 points, red otherwise; grey without a value.
- **Trend**: manual values per recorded period; computed counts cumulative at the end of each
  quarter since the baseline date; computed rates per quarter.

Privacy: computed counts are case data. Pages pass them through ``ctx.protect`` (columns
``count`` and ``n``; ``rate`` withheld when ``n`` < k) and, for aggregate-only viewers,
:func:`withhold_small_steps` so that no two cumulative values shown differ by 1..k−1 and a
sex is not left derivable from the total and the other sex.
"""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa

from dashboard import schema
from dashboard.db import days_diff, frame, month_key, percentiles
from dashboard.domain import N_
from dashboard.filters import Filters
from dashboard.privacy import is_hidden
from dashboard.queries.targets import target_days

c, s, r, ss = schema.cases, schema.services, schema.referrals, schema.shelter_stays
ind, res, proj, iv = schema.indicators, schema.project_results, schema.projects, schema.indicator_values

# code -> how it is aggregated: "count" of units, "pct" of units that hit, "median" of values
COMPUTATIONS = {
    "victims_assisted": "count",
    "cases_identified": "count",
    "referrals_sent": "count",
    "referrals_accepted_within_target_pct": "pct",
    "median_days_to_first_service": "median",
    "shelter_admissions": "count",
    "assisted_returns": "count",
}
COMPUTATION_HELP = {
    "victims_assisted": N_("Distinct cases with a service started in the period."),
    "cases_identified": N_("Cases whose identification date falls in the period."),
    "referrals_sent": N_("Referrals sent in the period."),
    "referrals_accepted_within_target_pct": N_(
        "Referrals decided in the period that were accepted within their target time, "
        "as a share of all referrals decided in the period."),
    "median_days_to_first_service": N_(
        "Median days from identification to the first service, for cases whose first service started in the period."),
    "shelter_admissions": N_("Shelter stays that began in the period."),
    "assisted_returns": N_("Assisted voluntary return services started in the period."),
}
LIGHTS = ("green", "amber", "red", "grey")
LIGHT_LABELS = {"green": N_("On track"), "amber": N_("Behind"), "red": N_("Off track"), "grey": N_("No data")}
GREEN_MARGIN, AMBER_MARGIN = 0.10, 0.25
SEX_ROWS = ("all", "female", "male")


class UnknownComputation(ValueError):
    """An indicator names a computation this module does not implement."""


def kind_of(source: str, computation: str | None) -> str:
    """'manual', 'count' (computed count) or 'rate' (computed percentage or median)."""
    if source != "computed":
        return "manual"
    if computation not in COMPUTATIONS:
        raise UnknownComputation(f"unknown indicator computation {computation!r}")
    return "count" if COMPUTATIONS[computation] == "count" else "rate"


# ---------------------------------------------------------------- quarters
def quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def quarter_end(d: date) -> date:
    qs = quarter_start(d)
    nxt = date(qs.year + (qs.month == 10), 1 if qs.month == 10 else qs.month + 3, 1)
    return nxt - timedelta(days=1)


def quarter_label(d: date) -> str:
    return f"{d.year}-Q{(d.month - 1) // 3 + 1}"


def quarters(first: date, last: date) -> list[tuple[str, date, date]]:
    """(YYYY-Qn, start, end) of the calendar quarters from ``first`` to ``last``, the first
    and last clipped to those days."""
    out, d = [], quarter_start(first)
    while d <= last:
        out.append((quarter_label(d), max(d, first), min(quarter_end(d), last)))
        d = quarter_end(d) + timedelta(days=1)
    return out


def quarter_key(col, dialect: str):
    """'YYYY-Qn' of a date column (SQL, both dialects)."""
    mk = month_key(col, dialect)
    m = sa.func.substr(mk, 6, 2, type_=sa.String)
    q = sa.case((m <= "03", "1"), (m <= "06", "2"), (m <= "09", "3"), else_="4")
    return sa.func.substr(mk, 1, 4, type_=sa.String) + sa.literal("-Q", sa.String) + q


# ---------------------------------------------------------------- computed metrics
def _units(code: str, f: Filters, start: date, end: date, dialect: str):
    """One row per counted unit in [start, end]: sex, on (the date that places it), and for
    "pct" ``hit`` (1/0), for "median" ``v``."""
    where = f.case_clauses()
    if code == "victims_assisted":
        return (sa.select(c.c.sex, sa.func.min(s.c.started_on).label("on"))
                .select_from(s.join(c, c.c.id == s.c.case_id))
                .where(s.c.started_on >= start, s.c.started_on <= end, *where).group_by(s.c.case_id, c.c.sex))
    if code == "cases_identified":
        return sa.select(c.c.sex, c.c.identified_on.label("on")).where(
            c.c.identified_on >= start, c.c.identified_on <= end, *where)
    if code == "referrals_sent":
        return (sa.select(c.c.sex, r.c.sent_on.label("on")).select_from(r.join(c, c.c.id == r.c.case_id))
                .where(r.c.sent_on >= start, r.c.sent_on <= end, *where))
    if code == "shelter_admissions":
        return (sa.select(c.c.sex, ss.c.entered_on.label("on")).select_from(ss.join(c, c.c.id == ss.c.case_id))
                .where(ss.c.entered_on >= start, ss.c.entered_on <= end, *where))
    if code == "assisted_returns":
        return (sa.select(c.c.sex, s.c.started_on.label("on")).select_from(s.join(c, c.c.id == s.c.case_id))
                .where(s.c.service_type == "assisted_voluntary_return", s.c.started_on >= start,
                       s.c.started_on <= end, *where))
    if code == "referrals_accepted_within_target_pct":
        receiver = schema.organisations.alias("receiver")
        within = days_diff(r.c.sent_on, r.c.decided_on, dialect) <= target_days(r, receiver)
        hit = sa.case((sa.and_(r.c.outcome == "accepted", within), 1), else_=0)
        return (sa.select(c.c.sex, r.c.decided_on.label("on"), hit.label("hit"))
                .select_from(r.join(c, c.c.id == r.c.case_id).join(receiver, receiver.c.id == r.c.to_org_id))
                .where(r.c.decided_on.is_not(None), r.c.decided_on >= start, r.c.decided_on <= end, *where))
    if code == "median_days_to_first_service":
        first = (sa.select(s.c.case_id, sa.func.min(s.c.started_on).label("first_on"))
                 .group_by(s.c.case_id).subquery("first_service"))
        return (sa.select(c.c.sex, first.c.first_on.label("on"),
                          days_diff(c.c.identified_on, first.c.first_on, dialect).label("v"))
                .select_from(first.join(c, c.c.id == first.c.case_id))
                .where(first.c.first_on >= start, first.c.first_on <= end, *where))
    raise UnknownComputation(f"unknown indicator computation {code!r}")


def measure(conn, f: Filters, code: str, start: date, end: date, keys: tuple[str, ...] = ()) -> pd.DataFrame:
    """A computed metric over [start, end], grouped by ``keys`` (among "sex", "quarter"):
    keys..., value, n (n = units counted: cases, referrals, stays or services)."""
    if code not in COMPUTATIONS:
        raise UnknownComputation(f"unknown indicator computation {code!r}")
    how, dialect = COMPUTATIONS[code], conn.dialect.name
    cols = list(keys) + ["value", "n"]
    if end < start:
        return pd.DataFrame(columns=cols)
    u = _units(code, f, start, end, dialect).subquery("units")
    key_cols = {"sex": u.c.sex, "quarter": quarter_key(u.c.on, dialect)}
    group = [key_cols[k].label(k) for k in keys]
    if how == "median":
        values = sa.select(*group, u.c.v)
        df = percentiles(conn, values, list(keys), "v", {"median": 0.5})
        return df.rename(columns={"median": "value"})[cols] if not df.empty else pd.DataFrame(columns=cols)
    if how == "count":
        stmt = sa.select(*group, sa.func.count().label("n")).select_from(u)
    else:
        stmt = sa.select(*group, sa.func.sum(u.c.hit).label("num"), sa.func.count().label("n")).select_from(u)
    if group:
        stmt = stmt.group_by(*[key_cols[k] for k in keys])
    df = frame(conn, stmt)
    df["n"] = df["n"].astype(int)
    if how == "count":
        df["value"] = df["n"].astype(float)
    else:
        df["value"] = [100.0 * float(num) / n if n else None for num, n in zip(df["num"], df["n"])]
    df = df[df["n"] > 0] if keys else df
    return df[cols].reset_index(drop=True)


def _by_sex(conn, f: Filters, code: str, start: date, end: date, by_sex: bool) -> pd.DataFrame:
    """sex (all, and female/male when asked), value, n over [start, end]."""
    how = COMPUTATIONS[code]
    total = measure(conn, f, code, start, end)
    if total.empty:
        total = pd.DataFrame({"value": [0.0 if how == "count" else None], "n": [0]})
    rows = [{"sex": "all", "value": total.at[0, "value"], "n": int(total.at[0, "n"])}]
    if by_sex:
        split = measure(conn, f, code, start, end, ("sex",)).set_index("sex")
        for sex in ("female", "male"):
            if sex in split.index:
                rows.append({"sex": sex, "value": split.at[sex, "value"], "n": int(split.at[sex, "n"])})
            else:
                rows.append({"sex": sex, "value": 0.0 if how == "count" else None, "n": 0})
    if how == "count" and end < start:
        for row in rows:
            row["value"] = None
    return pd.DataFrame(rows)


def count_window(f: Filters, baseline_on: date, target_on: date) -> tuple[date, date]:
    """Days a computed count covers: from the baseline date to the period's end (at most the target date)."""
    return baseline_on, min(f.end, target_on)


# ---------------------------------------------------------------- indicator metadata
def _meta_select(lang: str):
    outcome = res.alias("outcome")
    title = (lambda t: t.c.title_en) if lang == "en" else (lambda t: t.c.title_fr)
    # an indicator hangs on an output (whose parent is the outcome) or directly on an outcome
    outcome_code = sa.case((res.c.level == "outcome", res.c.code), else_=outcome.c.code)
    outcome_title = sa.case((res.c.level == "outcome", title(res)), else_=title(outcome))
    return (
        sa.select(
            proj.c.code.label("project"), outcome_code.label("outcome"), outcome_title.label("outcome_title"),
            sa.case((res.c.level == "output", res.c.code), else_=None).label("output"),
            sa.case((res.c.level == "output", title(res)), else_=None).label("output_title"),
            ind.c.id, ind.c.code, (ind.c.label_en if lang == "en" else ind.c.label_fr).label("label"), ind.c.unit,
            ind.c.baseline, ind.c.baseline_on, ind.c.target, ind.c.target_on, ind.c.direction,
            ind.c.disaggregation, ind.c.source, ind.c.computation,
        )
        .select_from(ind.join(res, res.c.id == ind.c.result_id).join(proj, proj.c.id == res.c.project_id)
                     .outerjoin(outcome, outcome.c.id == res.c.parent_id))
        .order_by(proj.c.code, outcome_code, sa.func.coalesce(res.c.code, ""), ind.c.code)
    )


def projects(conn, f: Filters, lang: str = "fr") -> pd.DataFrame:
    """code, title, organisation, donor, starts_on, ends_on of every project."""
    o = schema.organisations
    stmt = (sa.select(proj.c.code, (proj.c.title_en if lang == "en" else proj.c.title_fr).label("title"),
                      o.c.name.label("organisation"), proj.c.donor, proj.c.starts_on, proj.c.ends_on)
            .select_from(proj.outerjoin(o, o.c.id == proj.c.organisation_id)).order_by(proj.c.starts_on, proj.c.code))
    return frame(conn, stmt)


def indicator_list(conn, f: Filters, project: str | None = None, lang: str = "fr") -> pd.DataFrame:
    """Indicator metadata in results-matrix order (project, outcome, output, indicator), with ``kind``."""
    stmt = _meta_select(lang)
    if project is not None:
        stmt = stmt.where(proj.c.code == project)
    df = frame(conn, stmt)
    df["kind"] = [kind_of(src, comp) for src, comp in zip(df["source"], df["computation"])]
    return df


def manual_indicators(conn, f: Filters, lang: str = "fr") -> pd.DataFrame:
    """The indicators whose values are recorded by hand (for the update form)."""
    df = indicator_list(conn, f, None, lang)
    return df[df["kind"] == "manual"].reset_index(drop=True)


# ---------------------------------------------------------------- manual values
def _latest_values(f: Filters, indicator_ids=None):
    """Latest recorded row per (indicator, period, sex), for periods ending by the period's end."""
    rn = sa.func.row_number().over(
        partition_by=(iv.c.indicator_id, iv.c.period_start, iv.c.period_end, iv.c.sex),
        order_by=(iv.c.recorded_at.desc(), iv.c.id.desc()),
    ).label("rn")
    stmt = sa.select(iv.c.indicator_id, iv.c.period_start, iv.c.period_end, iv.c.sex, iv.c.value, iv.c.note,
                     iv.c.recorded_by, iv.c.recorded_at, rn).where(iv.c.period_end <= f.end)
    if indicator_ids is not None:
        stmt = stmt.where(iv.c.indicator_id.in_(list(indicator_ids)))
    sub = stmt.subquery("ranked")
    return sa.select(*(col for col in sub.c if col.name != "rn")).where(sub.c.rn == 1)


def value_history(conn, f: Filters, code: str) -> pd.DataFrame:
    """Every value recorded for a manual indicator, newest period first: period_start,
    period_end, sex, value, note, recorded_by, recorded_at, current (True for the row that
    counts: the latest recorded for its period and sex)."""
    rn = sa.func.row_number().over(
        partition_by=(iv.c.period_start, iv.c.period_end, iv.c.sex), order_by=(iv.c.recorded_at.desc(), iv.c.id.desc()))
    stmt = (sa.select(iv.c.period_start, iv.c.period_end, iv.c.sex, iv.c.value, iv.c.note, iv.c.recorded_by,
                      iv.c.recorded_at, (rn == 1).label("current"))
            .select_from(iv.join(ind, ind.c.id == iv.c.indicator_id)).where(ind.c.code == code)
            .subquery("h"))
    df = frame(conn, sa.select(stmt).order_by(stmt.c.period_end.desc(), stmt.c.recorded_at.desc(), stmt.c.sex))
    if not df.empty:
        df["current"] = df["current"].astype(bool)
    return df


# ---------------------------------------------------------------- the results matrix
VALUE_COLS = ["manual", "count", "rate", "n"]


def _value_row(kind: str, value, n) -> dict:
    return {"manual": value if kind == "manual" else None, "count": value if kind == "count" else None,
            "rate": value if kind == "rate" else None, "n": n if kind != "manual" else None}


def results_matrix(conn, f: Filters, project: str | None = None, lang: str = "fr") -> pd.DataFrame:
    """One row per indicator and sex (``all``; ``female`` and ``male`` too for indicators
    disaggregated by sex), in results-matrix order: project, outcome, outcome_title, output,
    output_title, code, label, unit, baseline, baseline_on, target, target_on, direction,
    disaggregation, source, computation, kind, sex, manual, count, rate, n, as_of.

    The value sits in ``manual``, ``count`` or ``rate`` by kind (module docstring); ``n`` is
    the number of units behind a computed value; ``as_of`` the day it stands for. Add
    progress and traffic lights with :func:`with_progress` (after protecting the values)."""
    meta = indicator_list(conn, f, project, lang)
    rows = []
    manual_ids = meta.loc[meta["kind"] == "manual", "id"].tolist()
    latest = frame(conn, _latest_values(f, manual_ids)) if manual_ids else pd.DataFrame(
        columns=["indicator_id", "period_end", "sex", "value"])
    for m in meta.to_dict("records"):
        sexes = SEX_ROWS if m["disaggregation"] == "sex" else ("all",)
        base = {k: v for k, v in m.items()}
        if m["kind"] == "manual":
            mine = latest[latest["indicator_id"] == m["id"]]
            last = mine["period_end"].max() if not mine.empty else None
            for sex in sexes:
                hit = mine[(mine["period_end"] == last) & (mine["sex"] == sex)] if last is not None else mine.iloc[0:0]
                value = float(hit["value"].iloc[0]) if not hit.empty else None
                rows.append({**base, "sex": sex, **_value_row("manual", value, None), "as_of": last})
            continue
        if m["kind"] == "count":
            start, end = count_window(f, m["baseline_on"], m["target_on"])
        else:
            start, end = f.start, f.end
        values = _by_sex(conn, f, m["computation"], start, end, m["disaggregation"] == "sex").set_index("sex")
        for sex in sexes:
            rows.append({**base, "sex": sex, **_value_row(m["kind"], values.at[sex, "value"], int(values.at[sex, "n"])),
                         "as_of": end if end >= start else None})
    cols = [*meta.columns.drop("id"), "sex", *VALUE_COLS, "as_of"]
    return pd.DataFrame(rows, columns=["id", *cols]).drop(columns=["id"]) if rows else pd.DataFrame(columns=cols)


def indicator_series(conn, f: Filters, code: str) -> pd.DataFrame:
    """The trend of one indicator: quarter, period_start, period_end, sex, manual, count,
    rate, n — manual values per recorded period (latest recorded wins); computed counts
    cumulative at the end of each quarter from the baseline date to the period's end (at most
    the target date); computed rates per quarter over the same span. Sexes: all, and female
    and male for indicators disaggregated by sex."""
    meta = indicator_list(conn, f, None, "en")
    meta = meta[meta["code"] == code]
    cols = ["quarter", "period_start", "period_end", "sex", *VALUE_COLS]
    if meta.empty:
        return pd.DataFrame(columns=cols)
    m = meta.iloc[0]
    sexes = SEX_ROWS if m["disaggregation"] == "sex" else ("all",)
    if m["kind"] == "manual":
        df = frame(conn, _latest_values(f, [int(m["id"])]))
        df = df[df["sex"].isin(sexes)]
        if df.empty:
            return pd.DataFrame(columns=cols)
        out = pd.DataFrame({"quarter": [quarter_label(d) for d in df["period_start"]],
                            "period_start": df["period_start"], "period_end": df["period_end"], "sex": df["sex"],
                            "manual": df["value"].astype(float), "count": None, "rate": None, "n": None})
        return out.sort_values(["period_end", "sex"]).reset_index(drop=True)[cols]
    start, end = count_window(f, m["baseline_on"], m["target_on"])
    spans = quarters(start, end)
    if not spans:
        return pd.DataFrame(columns=cols)
    keys = ("quarter", "sex") if m["disaggregation"] == "sex" else ("quarter",)
    total = measure(conn, f, m["computation"], start, end, ("quarter",)).assign(sex="all")
    parts = [total]
    if m["disaggregation"] == "sex":
        split = measure(conn, f, m["computation"], start, end, keys)
        parts.append(split[split["sex"].isin(["female", "male"])])
    got = pd.concat(parts, ignore_index=True) if any(not p.empty for p in parts) else pd.DataFrame(
        columns=["quarter", "sex", "value", "n"])
    rows = []
    for sex in sexes:
        mine = got[got["sex"] == sex].set_index("quarter")
        running = 0
        for label, qs, qe in spans:
            if m["kind"] == "count":
                running += int(mine.at[label, "n"]) if label in mine.index else 0
                rows.append({"quarter": label, "period_start": qs, "period_end": qe, "sex": sex,
                             **_value_row("count", float(running), running)})
            else:
                hit = label in mine.index
                rows.append({"quarter": label, "period_start": qs, "period_end": qe, "sex": sex,
                             **_value_row("rate", mine.at[label, "value"] if hit else None,
                                          int(mine.at[label, "n"]) if hit else 0)})
    return pd.DataFrame(rows, columns=cols)


# ---------------------------------------------------------------- progress and lights (pure)
def progress(actual, baseline: float, target: float) -> float | None:
    """(actual − baseline) ÷ (target − baseline), capped at 0..1 (a fraction); None without a value."""
    if actual is None or pd.isna(actual) or target == baseline:
        return None
    return min(1.0, max(0.0, (float(actual) - baseline) / (target - baseline)))


def elapsed(as_of, baseline_on: date, target_on: date) -> float | None:
    """Share of the time from baseline to target gone by on ``as_of`` (0..1)."""
    if as_of is None or pd.isna(as_of):
        return None
    span = (target_on - baseline_on).days
    if span <= 0:
        return 1.0
    return min(1.0, max(0.0, (pd.Timestamp(as_of).date() - baseline_on).days / span))


def light(prog: float | None, elapsed_share: float | None) -> str:
    """green / amber / red by progress against time elapsed; grey without a value."""
    if prog is None or pd.isna(prog) or elapsed_share is None:
        return "grey"
    eps = 1e-9  # a progress exactly on a boundary counts as reaching it
    if prog + eps >= elapsed_share - GREEN_MARGIN:
        return "green"
    if prog + eps >= elapsed_share - AMBER_MARGIN:
        return "amber"
    return "red"


def actual_of(row) -> float | None:
    """The numeric value of a (protected) matrix or series row; None when missing or hidden."""
    value = row["manual"] if row["kind"] == "manual" else row["count"] if row["kind"] == "count" else row["rate"]
    if value is None or is_hidden(value) or pd.isna(value):
        return None
    return float(value)


def with_progress(matrix: pd.DataFrame) -> pd.DataFrame:
    """Add actual, progress (0..1), elapsed (0..1) and light to a (protected) results matrix."""
    out = matrix.copy()
    if out.empty:
        for col in ("actual", "progress", "elapsed", "light"):
            out[col] = pd.Series(dtype=object)
        return out
    out["actual"] = [actual_of(row) for _, row in out.iterrows()]
    out["progress"] = [progress(v, b, t) for v, b, t in zip(out["actual"], out["baseline"], out["target"])]
    out["elapsed"] = [elapsed(d, b, t) for d, b, t in zip(out["as_of"], out["baseline_on"], out["target_on"])]
    out["light"] = [light(p, e) for p, e in zip(out["progress"], out["elapsed"])]
    return out


# ---------------------------------------------------------------- secondary suppression (pure)
def withhold_small_steps(series: pd.DataFrame, k: int) -> pd.DataFrame:
    """For aggregate-only viewers, after ``protect``: in cumulative count series, withhold
    (None) every value that differs from the last value shown for the same sex by 1..k−1
    (counting from 0; cells already "< k" stay so), so no difference of two values shown
    reveals a small count; then, in any quarter where one of female/male is hidden or
    withheld, withhold the other too.
    Other kinds are returned unchanged."""
    out = series.reset_index(drop=True)
    if out.empty or "count" not in out:
        return out
    counts = out["count"].notna()
    for sex in out.loc[counts, "sex"].unique():
        shown = 0.0
        for idx in out[counts & (out["sex"] == sex)].sort_values("period_end").index:
            value = out.at[idx, "count"]
            if is_hidden(value) or value is None or pd.isna(value):
                continue  # already "< k" (or missing): says no more than protect allows
            step = float(value) - shown
            if step == 0 or step >= k:
                shown = float(value)
            else:
                out.at[idx, "count"] = None
                out.at[idx, "n"] = None
    for period in out.loc[counts, "period_end"].unique():
        pair = out[counts & (out["period_end"] == period) & out["sex"].isin(["female", "male"])]
        if len(pair) == 2 and any(_missing(v) for v in pair["count"]):
            for idx in pair.index:
                if not is_hidden(out.at[idx, "count"]):
                    out.at[idx, "count"] = None
                    out.at[idx, "n"] = None
    return out


def _missing(value) -> bool:
    return is_hidden(value) or value is None or bool(pd.isna(value))


def align_counts(matrix: pd.DataFrame, series: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Computed counts of the matrix replaced by the last value of their (protected) series
    (the same window), so the matrix never shows what the series withholds."""
    out = matrix.copy()
    for code, df in series.items():
        if df.empty:
            continue
        last = df[df["period_end"] == df["period_end"].max()].set_index("sex")
        rows = out.index[(out["code"] == code) & (out["kind"] == "count")]
        for idx in rows:
            sex = out.at[idx, "sex"]
            if sex in last.index:
                out.at[idx, "count"] = last.at[sex, "count"]
                out.at[idx, "n"] = last.at[sex, "n"]
    return out
