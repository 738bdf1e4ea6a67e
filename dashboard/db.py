"""Engines, and the few SQL expressions where SQLite and PostgreSQL differ.

Every query module builds SQLAlchemy Core statements; anything dialect-specific
(month buckets, day differences, percentiles) goes through the helpers here so
the difference lives in one place.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached; pages show a clear message, nothing is lost."""


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = sa.create_engine(url, **kwargs)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            # room for the pages' GROUP BY sorts (32 MB of page cache per connection, used
            # only as needed; temporary b-trees in memory instead of a temporary file)
            cur.execute("PRAGMA cache_size=-32768")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(url, **kwargs)


def check_connection(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        raise DatabaseUnavailable(str(exc.orig) if exc.orig else str(exc)) from exc


def frame(conn: Connection, stmt) -> pd.DataFrame:
    """Run a statement and return its (small, aggregated) result as a DataFrame. Built from
    plain tuples: pandas probes each SQLAlchemy Row for namedtuple fields otherwise, which
    costs more than the query itself on results of thousands of rows."""
    result = conn.execute(stmt)
    return pd.DataFrame([tuple(row) for row in result.fetchall()], columns=list(result.keys()))


def dialect_of(conn_or_engine) -> str:
    return conn_or_engine.dialect.name


def month_key(col, dialect: str):
    """'YYYY-MM' of a date column."""
    if dialect == "postgresql":
        return sa.func.to_char(col, "YYYY-MM")
    return sa.func.strftime("%Y-%m", col)


def week_key(col, dialect: str):
    """ISO date (YYYY-MM-DD) of the Monday of a date column's week."""
    if dialect == "postgresql":
        return sa.func.to_char(sa.func.date_trunc("week", col), "YYYY-MM-DD")
    return sa.func.date(col, "-6 days", "weekday 1")


def days_diff(start, end, dialect: str):
    """Whole days from ``start`` to ``end`` (both dates or date parameters)."""
    if dialect == "postgresql":
        return sa.cast(end, sa.Date) - sa.cast(start, sa.Date)
    return sa.cast(sa.func.julianday(end) - sa.func.julianday(start), sa.Integer)


def greatest(dialect: str, first, *others):
    """The largest of ``first`` (never NULL) and ``others`` (NULL ones are ignored), one row
    at a time: PostgreSQL's GREATEST; SQLite's scalar max() with each NULL replaced by
    ``first`` (SQLite's max() would return NULL as soon as one argument is NULL)."""
    if not others:
        return first
    if dialect == "postgresql":
        return sa.func.greatest(first, *others)
    return sa.func.max(first, *(sa.func.coalesce(x, first) for x in others))


def date_param(value: date, name: str | None = None):
    """A date as a bound parameter typed DATE on both dialects."""
    return sa.bindparam(name, value, type_=sa.Date) if name else sa.literal(value, type_=sa.Date)


QUANTILES = {"median": 0.5, "p90": 0.9}


def percentile_select(values: sa.Select, keys: list[str], value: str = "v", quantiles: dict | None = None) -> sa.Select:
    """Group ``values`` (a SELECT with columns ``keys`` + ``value``) and return, per group,
    ``n`` and each quantile (linear interpolation, as PostgreSQL's percentile_cont).

    The result is identical on SQLite (row numbers, then interpolation) and PostgreSQL
    (``percentile_cont ... WITHIN GROUP``). Rows whose value is NULL are left out.
    """
    quantiles = QUANTILES if quantiles is None else quantiles
    sub = values.subquery("pv")
    keycols = [sub.c[k] for k in keys]
    v = sub.c[value]
    return _PercentileBuilder(sub, keycols, v, quantiles)


class _PercentileBuilder:
    """Deferred until the dialect is known (``.for_dialect(name)``)."""

    def __init__(self, sub, keycols, v, quantiles):
        self.sub, self.keycols, self.v, self.quantiles = sub, keycols, v, quantiles

    def for_dialect(self, dialect: str) -> sa.Select:
        keycols, v = self.keycols, self.v
        if dialect == "postgresql":
            cols = [sa.func.count(v).label("n")]
            for name, q in self.quantiles.items():
                cols.append(sa.func.percentile_cont(q).within_group(v.asc()).label(name))
            stmt = sa.select(*keycols, *cols).where(v.is_not(None))
            return stmt.group_by(*keycols) if keycols else stmt
        part = keycols or None
        ranked = (
            sa.select(
                *keycols,
                v.label("v"),
                (sa.func.row_number().over(partition_by=part, order_by=v) - 1).label("i"),
                sa.func.count().over(partition_by=part).label("n"),
            )
            .where(v.is_not(None))
            .subquery("ranked")
        )
        rk = [ranked.c[c.name] for c in keycols]
        cols = [sa.func.max(ranked.c.n).label("n")]
        for name, q in self.quantiles.items():
            h = (ranked.c.n - 1) * q
            lo = sa.cast(h, sa.Integer)
            frac = h - lo
            value = sa.func.sum(sa.case((ranked.c.i == lo, ranked.c.v * (1 - frac)), else_=0)) + sa.func.sum(
                sa.case((ranked.c.i == lo + 1, ranked.c.v * frac), else_=0)
            )
            cols.append(sa.cast(value, sa.Float).label(name))
        stmt = sa.select(*rk, *cols)
        return stmt.group_by(*rk) if rk else stmt


def histogram_select(values: sa.Select, keys: list[str], value: str = "v") -> sa.Select:
    """``keys``, v, c: how many rows of ``values`` have each value, per group (NULLs left
    out). Day counts take few distinct values, so this is a small frame even over millions
    of rows, and one GROUP BY is far cheaper than ranking every row."""
    sub = values.subquery("pv")
    keycols = [sub.c[k] for k in keys]
    v = sub.c[value]
    return (sa.select(*keycols, v.label("v"), sa.func.count().label("c"))
            .where(v.is_not(None)).group_by(*keycols, v))


def quantiles_from_histogram(hist: pd.DataFrame, keys: list[str], quantiles: dict | None = None) -> pd.DataFrame:
    """Per group of ``hist`` (keys, v, c as :func:`histogram_select` returns): n and each
    quantile by linear interpolation between the two nearest ranks — PostgreSQL's
    ``percentile_cont``: with h = (n − 1)·q, lo = ⌊h⌋, the value is x[lo] + (x[lo+1] − x[lo])·(h − lo)
    over the sorted values x (0-based). Groups without a row are absent. All groups at once
    with numpy (cumulative counts, then a binary search for each rank)."""
    quantiles = QUANTILES if quantiles is None else quantiles
    cols = [*keys, "n", *quantiles]
    if hist.empty:
        return pd.DataFrame(columns=cols)
    h = hist.assign(v=pd.to_numeric(hist["v"]).astype(float), c=hist["c"].astype("int64"))
    h = h.groupby([*keys, "v"], as_index=False, sort=True, dropna=False)["c"].sum()
    xs, cum = h["v"].to_numpy(), h["c"].to_numpy().cumsum()
    if keys:
        last = ~h.duplicated(keys, keep="last").to_numpy()  # the last row of each group
    else:
        last = np.zeros(len(h), dtype=bool)
        last[-1] = True
    ends = cum[last]
    base = np.concatenate(([0], ends[:-1]))  # rows before the group, in the cumulative count
    n = ends - base
    out = h.loc[last, keys].reset_index(drop=True) if keys else pd.DataFrame(index=range(1))
    out["n"] = n.astype("int64")
    for name, q in quantiles.items():
        pos = (n - 1) * q
        lo = pos.astype("int64")
        x_lo = xs[np.searchsorted(cum, base + lo, side="right")]
        x_hi = xs[np.searchsorted(cum, base + np.minimum(lo + 1, n - 1), side="right")]
        out[name] = (x_lo + (x_hi - x_lo) * (pos - lo)).astype(float)
    return out[cols]


def percentiles(conn: Connection, values: sa.Select, keys: list[str], value: str = "v", quantiles: dict | None = None) -> pd.DataFrame:
    """Per group of ``values`` (a SELECT with columns ``keys`` + ``value``): keys, n, and each
    quantile (default median and p90; linear interpolation, as PostgreSQL's percentile_cont).

    SQL returns only the histogram (:func:`histogram_select`); the interpolation runs on that
    small frame (:func:`quantiles_from_histogram`), the same code on both dialects, so the
    answers are identical. Groups with no value are absent; with no keys and no rows, an
    empty frame."""
    hist = frame(conn, histogram_select(values, keys, value))
    return quantiles_from_histogram(hist, keys, quantiles)
