"""What each role may see, in one place. Every page and export goes through it.

- Case-level rows (one case, its timeline, lists by case code) are for ``admin`` and
  ``committee`` only: functions that return them are decorated with :func:`case_level`,
  which refuses other roles *before* anything is read, and refuses filters that are
  wider than the viewer's region scope.
- Aggregate-only roles (``minister``, ``partner``) never see a count between 1 and k-1:
  :func:`protect` turns such cells into the text "< k" and withholds medians and rates
  computed over fewer than k cases. The same function serves screens and exports.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd

from dashboard.domain import CASE_LEVEL_ROLES, ROLES


class AccessDenied(PermissionError):
    """The viewer's role or region scope does not allow this read."""


@dataclass(frozen=True)
class Viewer:
    username: str
    role: str
    regions: tuple[str, ...] | None = None  # region scope; None = national
    display_name: str = ""
    can_import: bool = False

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")

    @property
    def case_level(self) -> bool:
        return self.role in CASE_LEVEL_ROLES

    @property
    def aggregate_only(self) -> bool:
        return not self.case_level


def check_scope(filters, viewer: Viewer) -> None:
    """Refuse filters that do not carry the viewer's region scope."""
    if viewer.regions is None:
        return
    if filters.scope is None or not set(filters.scope) <= set(viewer.regions):
        raise AccessDenied(f"{viewer.username} is limited to regions {', '.join(viewer.regions)}")


def case_level(fn):
    """Mark a query that returns case-level rows: ``fn(conn, filters, viewer, ...)``."""

    @functools.wraps(fn)
    def guarded(conn, filters, viewer: Viewer, *args, **kwargs):
        if not isinstance(viewer, Viewer) or not viewer.case_level:
            raise AccessDenied(f"role {getattr(viewer, 'role', None)!r} may not read case-level data")
        check_scope(filters, viewer)
        return fn(conn, filters, viewer, *args, **kwargs)

    guarded.case_level = True
    return guarded


def hidden_label(k: int) -> str:
    return f"< {k}"


def is_hidden(value) -> bool:
    return isinstance(value, str) and value.startswith("< ")


def numeric(series: pd.Series) -> pd.Series:
    """Numbers of a protected column, hidden cells as NaN (for charts)."""
    return pd.to_numeric(series, errors="coerce")


def protect(df: pd.DataFrame, viewer: Viewer, k: int, counts=(), stats: dict | None = None) -> pd.DataFrame:
    """A copy of ``df`` safe to show ``viewer``.

    counts: columns of counts; for aggregate-only viewers a value 1..k-1 becomes "< k".
    stats:  {column: n_column} medians, percentiles or rates computed over n_column cases;
            withheld (None) when n < k. n_column itself should also be listed in counts.
    Committee members and administrators get the frame unchanged.
    """
    if viewer.case_level or df.empty:
        return df.copy()
    out = df.copy()
    for col, n_col in (stats or {}).items():
        n = pd.to_numeric(df[n_col], errors="coerce").fillna(0)
        out[col] = df[col].astype(object).where(n >= k, None)
    label = hidden_label(k)
    for col in counts:
        values = pd.to_numeric(df[col], errors="coerce")
        small = (values >= 1) & (values < k)
        if small.any():
            out[col] = df[col].astype(object).where(~small, label)
    return out
