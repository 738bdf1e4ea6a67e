"""One ``Filters`` value: built once per run from the sidebar and the URL, handed to every query.

It knows how to become SQLAlchemy WHERE clauses and how to round-trip through
``st.query_params`` (plain dict of strings), and is tested on its own
(tests/test_filters.py). No streamlit import here.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import sqlalchemy as sa

from dashboard import schema
from dashboard.domain import AGE_BANDS, EXPLOITATION_TYPES, MINOR_BANDS, SEXES

PRESETS = ("this_quarter", "last_quarter", "year_to_date", "last_12_months", "custom")
DEFAULT_PRESET = "last_12_months"


def quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def preset_range(preset: str, today: date) -> tuple[date, date]:
    """(start, end), both inclusive, of a named period ending no later than today."""
    if preset == "this_quarter":
        return quarter_start(today), today
    if preset == "last_quarter":
        end = quarter_start(today) - timedelta(days=1)
        return quarter_start(end), end
    if preset == "year_to_date":
        return date(today.year, 1, 1), today
    if preset == "last_12_months":
        # the twelve whole months before this one, plus this month so far
        first = _add_months(date(today.year, today.month, 1), -11)
        return first, today
    raise ValueError(f"unknown period preset {preset!r}")


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, 1)


class FilterError(ValueError):
    """A filter value that cannot be used (shown to the user, translated by the page)."""


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    today: date
    preset: str = DEFAULT_PRESET
    regions: tuple[str, ...] = ()  # region codes chosen; () = every region the viewer may see
    scope: tuple[str, ...] | None = None  # the viewer's region scope; None = national
    sex: tuple[str, ...] = ()
    age_group: str | None = None  # "minor" | "adult" | None
    exploitation: tuple[str, ...] = ()
    extra: tuple[tuple[str, str], ...] = field(default=())  # page-specific (e.g. stage clicked)

    def __post_init__(self):
        if self.start > self.end:
            raise FilterError("start after end")
        if self.age_group not in (None, "minor", "adult"):
            raise FilterError(f"unknown age group {self.age_group!r}")
        for s in self.sex:
            if s not in SEXES:
                raise FilterError(f"unknown sex {s!r}")
        for e in self.exploitation:
            if e not in EXPLOITATION_TYPES:
                raise FilterError(f"unknown exploitation type {e!r}")

    # ------------------------------------------------------------ derived values
    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def effective_regions(self) -> tuple[str, ...] | None:
        """Region codes the data must come from; None = no restriction; () = nothing at all."""
        if self.scope is None:
            return self.regions or None
        if not self.regions:
            return tuple(self.scope)
        return tuple(r for r in self.regions if r in self.scope)

    def restricts_cases(self) -> bool:
        """Whether the filters restrict the cases at all (region, sex, age group or
        exploitation); when not, a query can skip its join to the cases table."""
        return bool(self.effective_regions() is not None or self.sex or self.age_group or self.exploitation)

    def previous(self) -> "Filters":
        """The previous period of equal length, ending the day before this one starts."""
        end = self.start - timedelta(days=1)
        return replace(self, start=end - timedelta(days=self.days - 1), end=end, preset="custom")

    def with_(self, **changes) -> "Filters":
        return replace(self, **changes)

    def get_extra(self, key: str, default: str | None = None) -> str | None:
        return dict(self.extra).get(key, default)

    # ------------------------------------------------------------ SQL
    def in_period(self, col):
        return sa.and_(col >= self.start, col <= self.end)

    def region_clause(self, region_id_col):
        codes = self.effective_regions()
        if codes is None:
            return sa.true()
        if not codes:
            return sa.false()
        return region_id_col.in_(sa.select(schema.regions.c.id).where(schema.regions.c.code.in_(codes)))

    def case_clauses(self, cases=schema.cases) -> list:
        """Region, sex, age group and exploitation conditions on the cases table."""
        clauses = [self.region_clause(cases.c.region_id)]
        if self.sex:
            clauses.append(cases.c.sex.in_(self.sex))
        if self.age_group == "minor":
            clauses.append(cases.c.age_band.in_(sorted(MINOR_BANDS)))
        elif self.age_group == "adult":
            clauses.append(cases.c.age_band.in_([b for b in AGE_BANDS if b not in MINOR_BANDS and b != "unknown"]))
        if self.exploitation:
            ce = schema.case_exploitation
            clauses.append(
                sa.exists().where(ce.c.case_id == cases.c.id, ce.c.exploitation_type.in_(self.exploitation))
            )
        return clauses

    def case_where(self, cases=schema.cases):
        return sa.and_(*self.case_clauses(cases))

    # ------------------------------------------------------------ URL
    def to_params(self) -> dict[str, str]:
        params = {"period": self.preset}
        if self.preset == "custom":
            params["from"], params["to"] = self.start.isoformat(), self.end.isoformat()
        if self.regions:
            params["regions"] = ",".join(self.regions)
        if self.sex:
            params["sex"] = ",".join(self.sex)
        if self.age_group:
            params["age"] = self.age_group
        if self.exploitation:
            params["exploitation"] = ",".join(self.exploitation)
        return params

    @classmethod
    def from_params(cls, params: dict, today: date, known_regions: set[str] | None = None, scope: tuple[str, ...] | None = None) -> "Filters":
        """Build from URL parameters; unknown or malformed values fall back to defaults
        (a shared link never breaks a page). Use :func:`problems` to tell the user."""
        preset = params.get("period", DEFAULT_PRESET)
        if preset not in PRESETS:
            preset = DEFAULT_PRESET
        if preset == "custom":
            try:
                start, end = date.fromisoformat(params.get("from", "")), date.fromisoformat(params.get("to", ""))
                if start > end:
                    raise ValueError
            except ValueError:
                preset = DEFAULT_PRESET
        if preset != "custom":
            start, end = preset_range(preset, today)

        def _list(key, allowed):
            raw = [v for v in params.get(key, "").split(",") if v]
            return tuple(v for v in raw if allowed is None or v in allowed)

        regions = _list("regions", known_regions)
        age = params.get("age") if params.get("age") in ("minor", "adult") else None
        return cls(
            start=start,
            end=end,
            today=today,
            preset=preset,
            regions=regions,
            scope=scope,
            sex=_list("sex", set(SEXES)),
            age_group=age,
            exploitation=_list("exploitation", set(EXPLOITATION_TYPES)),
        )
