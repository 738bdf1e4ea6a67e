"""Country profiles: the reference data of one country, in ``data/profiles/<name>.yaml``.

A profile holds the regions (with population), organisations, shelters and their dated
capacity, referral targets, review thresholds, the National Action Plan and the partner
projects. ``load_profile`` reads and checks one; every problem is a ``ProfileError``
naming the file, the key path and what is wrong, e.g.::

    mali.yaml: organisations[3].type: unknown organisation type 'Polise' (expected one of NGO, ...)

The profile's ``code`` is what the database records as its country (``meta.country``);
keep it equal to the file name.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any, NoReturn

import yaml

from dashboard import domain
from dashboard.settings import DATA_DIR

PROFILES_DIR = DATA_DIR / "profiles"

# Metrics a `computed` indicator can use, with the unit each one is measured in.
COMPUTATIONS = {
    "victims_assisted": "number",  # distinct cases with a service started in the period
    "cases_identified": "number",
    "referrals_sent": "number",
    "referrals_accepted_within_target_pct": "percent",
    "median_days_to_first_service": "days",
    "shelter_admissions": "number",
    "assisted_returns": "number",
}
DISAGGREGATIONS = ("none", "sex")
LANGUAGES = ("fr", "en")
# Organisation types that never receive referrals, so need no referral target.
NON_RECEIVING_ORG_TYPES = frozenset({"CorporateBusiness"})

_CODE = re.compile(r"^[A-Z0-9]+(?:[-_.][A-Z0-9]+)*$")
_CODE_MAX = 32


class ProfileError(Exception):
    """A profile that cannot be read or does not pass its checks."""

    def __init__(self, file: str, path: str, problem: str):
        self.file, self.path, self.problem = file, path, problem
        super().__init__(f"{file}: {path}: {problem}" if path else f"{file}: {problem}")


# ---------------------------------------------------------------- the model
@dataclass(frozen=True)
class Text:
    fr: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang.startswith("en") else self.fr


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    population: int


@dataclass(frozen=True)
class Organisation:
    code: str
    name: str
    org_type: str
    region: str


@dataclass(frozen=True)
class CapacityPeriod:
    valid_from: date
    valid_to: date | None  # exclusive; None = still valid
    women: int
    men: int
    girls: int
    boys: int

    @property
    def total(self) -> int:
        return self.women + self.men + self.girls + self.boys

    def beds(self, category: str) -> int:
        """Beds of one category of ``domain.BED_CATEGORIES``."""
        return getattr(self, category)

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True)
class Shelter:
    code: str
    name: str
    organisation: str
    region: str
    capacity: tuple[CapacityPeriod, ...]

    def capacity_on(self, day: date) -> CapacityPeriod | None:
        return next((p for p in self.capacity if p.covers(day)), None)


@dataclass(frozen=True)
class ReferralTarget:
    org_type: str
    service: str | None  # None = every service of that organisation type
    days: int


@dataclass(frozen=True)
class ReviewThresholds:
    no_assistance_days: int
    long_stay_days: int
    no_movement_days: int
    shelter_full_pct: int


@dataclass(frozen=True)
class Activity:
    code: str
    pillar: str
    title: Text
    lead: str
    partners: tuple[str, ...]
    region: str | None  # None = national
    planned_start: date
    planned_end: date
    budget: float
    indicator: Text


@dataclass(frozen=True)
class Objective:
    code: str
    pillar: str
    title: Text
    activities: tuple[Activity, ...]


@dataclass(frozen=True)
class Plan:
    code: str
    title: Text
    starts_on: date
    ends_on: date
    objectives: tuple[Objective, ...]

    @property
    def activities(self) -> tuple[Activity, ...]:
        return tuple(a for o in self.objectives for a in o.activities)


@dataclass(frozen=True)
class Indicator:
    code: str
    label: Text
    unit: str
    baseline: float
    baseline_on: date
    target: float
    target_on: date
    direction: str
    disaggregation: str
    source: str
    computation: str | None


@dataclass(frozen=True)
class Result:
    """An outcome (children are its outputs) or an output (no children)."""

    code: str
    level: str  # outcome | output
    title: Text
    children: tuple["Result", ...]
    indicators: tuple[Indicator, ...]


@dataclass(frozen=True)
class Project:
    code: str
    title: Text
    organisation: str
    donor: str | None
    starts_on: date
    ends_on: date
    outcomes: tuple[Result, ...]

    @property
    def results(self) -> tuple[Result, ...]:
        """Every outcome and output, each outcome before its outputs."""
        return tuple(r for o in self.outcomes for r in (o, *o.children))

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(i for r in self.results for i in r.indicators)


@dataclass(frozen=True)
class Profile:
    code: str
    name: Text
    country_iso2: str
    default_language: str
    currency: str
    regions: tuple[Region, ...]
    organisations: tuple[Organisation, ...]
    shelters: tuple[Shelter, ...]
    referral_targets: tuple[ReferralTarget, ...]
    review: ReviewThresholds
    plan: Plan
    projects: tuple[Project, ...]

    @cached_property
    def org_by_code(self) -> dict[str, Organisation]:
        return {o.code: o for o in self.organisations}

    @cached_property
    def region_codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.regions)

    def target_days(self, org_type: str, service: str | None = None) -> int | None:
        """Target days to decision for a receiver type (a service-specific row wins)."""
        rows = {(t.org_type, t.service): t.days for t in self.referral_targets}
        return rows.get((org_type, service), rows.get((org_type, None)))


# ---------------------------------------------------------------- loading
def available_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))


def load_profile(name_or_path: str | Path) -> Profile:
    """A profile by name (``"mali"``, from ``data/profiles``) or by path to a YAML file."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or "/" in text or text.endswith((".yaml", ".yml")):
        path = Path(name_or_path)
    else:
        path = PROFILES_DIR / f"{text}.yaml"
    if not path.is_file():
        raise ProfileError(path.name, "", f"no such profile (available: {', '.join(available_profiles())})")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "invalid YAML"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ProfileError(path.name, where, problem) from None
    return _Reader(path.name).profile(_At(path.name, raw, ""))


class _Loader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys and reports impossible dates with their line."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"invalid date {node.value!r} ({exc})", node.start_mark) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


class _At:
    """A value of the YAML document with its key path, to read it and name it in errors."""

    def __init__(self, file: str, value: Any, path: str):
        self.file, self.value, self.path = file, value, path

    def fail(self, problem: str) -> NoReturn:
        raise ProfileError(self.file, self.path, problem)

    def _child(self, key: str | int, value: Any) -> "_At":
        if isinstance(key, int):
            return _At(self.file, value, f"{self.path}[{key}]")
        return _At(self.file, value, f"{self.path}.{key}" if self.path else key)

    # -- structure
    def mapping(self, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> "_At":
        if not isinstance(self.value, dict):
            self.fail(f"expected a mapping, got {_show(self.value)}")
        for key in self.value:
            if key not in required and key not in optional:
                self._child(str(key), None).fail(f"unknown key (expected one of {', '.join(required + optional)})")
        for key in required:
            if key not in self.value:
                self._child(key, None).fail("missing required key")
        return self

    def __getitem__(self, key: str) -> "_At":
        return self._child(key, self.value[key])

    def opt(self, key: str) -> "_At | None":
        value = self.value.get(key)
        return None if value is None else self._child(key, value)

    def items(self, allow_empty: bool = False) -> list["_At"]:
        if not isinstance(self.value, list):
            self.fail(f"expected a list, got {_show(self.value)}")
        if not self.value and not allow_empty:
            self.fail("must not be empty")
        return [self._child(i, v) for i, v in enumerate(self.value)]

    # -- scalars
    def str(self) -> str:
        if not isinstance(self.value, str) or not self.value.strip():
            self.fail(f"expected a non-empty text, got {_show(self.value)}")
        return self.value.strip()

    def code(self) -> str:
        value = self.value
        if not isinstance(value, str) or not _CODE.match(value) or len(value) > _CODE_MAX:
            self.fail(f"invalid code {_show(value)} (uppercase letters and digits, joined by '-', '_' or '.';"
                      f" at most {_CODE_MAX} characters)")
        return value

    def text(self) -> Text:
        self.mapping(LANGUAGES)
        return Text(fr=self["fr"].str(), en=self["en"].str())

    def int(self, minimum: int = 1, maximum: int | None = None, what: str = "a positive integer") -> int:
        v = self.value
        if not isinstance(v, int) or isinstance(v, bool) or v < minimum or (maximum is not None and v > maximum):
            self.fail(f"expected {what}, got {_show(v)}")
        return v

    def number(self, minimum: float | None = None) -> float:
        v = self.value
        if not isinstance(v, (int, float)) or isinstance(v, bool) or (minimum is not None and v < minimum):
            self.fail(f"expected a number{'' if minimum is None else f' >= {minimum:g}'}, got {_show(v)}")
        return v

    def date(self) -> date:
        v = self.value
        if isinstance(v, str):
            try:
                v = date.fromisoformat(v)
            except ValueError:
                pass
        if type(v) is not date:
            self.fail(f"expected a date YYYY-MM-DD, got {_show(self.value)}")
        return v

    def enum(self, choices: tuple[str, ...], what: str) -> str:
        if self.value not in choices:
            self.fail(f"unknown {what} {_show(self.value)} (expected one of {', '.join(choices)})")
        return self.value

    def ref(self, known, what: str) -> str:
        if self.value not in known:
            self.fail(f"unknown {what} {_show(self.value)}")
        return self.value


def _show(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return "nothing" if value is None else repr(value)


def _unique(nodes: list[_At], seen: dict[str, str]) -> None:
    """Read each node's ``code``, failing on one already in ``seen`` (code -> path)."""
    for node in nodes:
        code_node = node["code"]
        code = code_node.code()
        if code in seen:
            code_node.fail(f"duplicate code '{code}' (also {seen[code]})")
        seen[code] = node.path


class _Reader:
    """Builds a Profile from the parsed YAML, checking as it goes."""

    def __init__(self, file: str):
        self.file = file

    def profile(self, top: _At) -> Profile:
        top.mapping(("code", "name", "country_iso2", "default_language", "currency", "regions",
                     "organisations", "shelters", "referral_targets", "review", "plan", "projects"))
        code = top["code"].str()
        if not re.fullmatch(r"[a-z][a-z0-9_]*", code):
            top["code"].fail(f"invalid profile code {code!r} (lowercase letters, digits and '_')")
        iso2 = top["country_iso2"].str()
        if not re.fullmatch(r"[A-Z]{2}", iso2):
            top["country_iso2"].fail(f"expected an ISO 3166-1 alpha-2 code, got {iso2!r}")
        currency = top["currency"].str()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            top["currency"].fail(f"expected an ISO 4217 currency code, got {currency!r}")
        name = top["name"].text()
        language = top["default_language"].enum(LANGUAGES, "language")

        self.regions = self._regions(top["regions"], iso2)
        self.orgs = self._organisations(top["organisations"])
        shelters = self._shelters(top["shelters"])
        targets = self._targets(top["referral_targets"])
        plan = self._plan(top["plan"])
        projects = self._projects(top["projects"])
        review = top["review"].mapping(("no_assistance_days", "long_stay_days", "no_movement_days", "shelter_full_pct"))
        return Profile(
            code=code,
            name=name,
            country_iso2=iso2,
            default_language=language,
            currency=currency,
            regions=tuple(self.regions.values()),
            organisations=tuple(self.orgs.values()),
            shelters=shelters,
            referral_targets=targets,
            review=ReviewThresholds(
                no_assistance_days=review["no_assistance_days"].int(),
                long_stay_days=review["long_stay_days"].int(),
                no_movement_days=review["no_movement_days"].int(),
                shelter_full_pct=review["shelter_full_pct"].int(1, 100, "a percentage between 1 and 100"),
            ),
            plan=plan,
            projects=projects,
        )

    # -- reference lists
    def _regions(self, node: _At, iso2: str) -> dict[str, Region]:
        items = node.items()
        for item in items:
            item.mapping(("code", "name", "population"))
        _unique(items, {})
        out = {}
        for item in items:
            code = item["code"].value
            if not code.startswith(f"{iso2}-"):
                item["code"].fail(f"region code '{code}' does not start with '{iso2}-'")
            out[code] = Region(code, item["name"].str(), item["population"].int())
        return out

    def _organisations(self, node: _At) -> dict[str, Organisation]:
        items = node.items()
        for item in items:
            item.mapping(("code", "name", "type", "region"))
        _unique(items, {})
        return {
            item["code"].value: Organisation(
                code=item["code"].value,
                name=item["name"].str(),
                org_type=item["type"].enum(domain.ORG_TYPES, "organisation type"),
                region=item["region"].ref(self.regions, "region"),
            )
            for item in items
        }

    def _shelters(self, node: _At) -> tuple[Shelter, ...]:
        items = node.items(allow_empty=True)
        for item in items:
            item.mapping(("code", "name", "organisation", "region", "capacity"))
        _unique(items, {})
        return tuple(
            Shelter(
                code=item["code"].value,
                name=item["name"].str(),
                organisation=item["organisation"].ref(self.orgs, "organisation"),
                region=item["region"].ref(self.regions, "region"),
                capacity=self._capacity(item["capacity"]),
            )
            for item in items
        )

    def _capacity(self, node: _At) -> tuple[CapacityPeriod, ...]:
        items = node.items()
        periods: list[CapacityPeriod] = []
        for i, item in enumerate(items):
            item.mapping(("from", *domain.BED_CATEGORIES), ("to",))
            start = item["from"].date()
            end = item["to"].date() if item.opt("to") else None
            if end is not None and end <= start:
                item["to"].fail(f"{end} is not after 'from' {start}")
            if end is None and i < len(items) - 1:
                item._child("to", None).fail("missing required key (only the last period may be open-ended)")
            if periods and start < periods[-1].valid_to:
                item["from"].fail(f"{start} is before the end of the previous period ({periods[-1].valid_to})")
            beds = {c: item[c].int(0, what="a number of beds (integer >= 0)") for c in domain.BED_CATEGORIES}
            periods.append(CapacityPeriod(start, end, **beds))
        return tuple(periods)

    def _targets(self, node: _At) -> tuple[ReferralTarget, ...]:
        seen: dict[tuple, str] = {}
        targets = []
        for item in node.items():
            item.mapping(("org_type", "days"), ("service",))
            org_type = item["org_type"].enum(domain.ORG_TYPES, "organisation type")
            service = item["service"].enum(domain.SERVICE_TYPES, "service") if item.opt("service") else None
            if (org_type, service) in seen:
                what = f"{org_type}/{service}" if service else org_type
                item.fail(f"duplicate target for {what} (also {seen[org_type, service]})")
            seen[org_type, service] = item.path
            targets.append(ReferralTarget(org_type, service, item["days"].int()))
        receiving = {o.org_type for o in self.orgs.values()} - NON_RECEIVING_ORG_TYPES
        for org_type in domain.ORG_TYPES:
            if org_type in receiving and (org_type, None) not in seen:
                node.fail(f"no target for organisation type '{org_type}', which receives referrals"
                          f" (add one without a service)")
        return tuple(targets)

    # -- the plan
    def _plan(self, node: _At) -> Plan:
        node.mapping(("code", "title", "starts_on", "ends_on", "objectives"))
        starts, ends = node["starts_on"].date(), node["ends_on"].date()
        if ends <= starts:
            node["ends_on"].fail(f"{ends} is not after starts_on {starts}")
        objectives = node["objectives"].items()
        for item in objectives:
            item.mapping(("code", "pillar", "title", "activities"))
        _unique(objectives, {})
        activity_codes: dict[str, str] = {}
        out = []
        for item in objectives:
            pillar = item["pillar"].enum(domain.PILLARS, "pillar")
            activities = item["activities"].items()
            for a in activities:
                a.mapping(("code", "title", "lead", "planned_start", "planned_end", "budget", "indicator"),
                          ("partners", "region"))
            _unique(activities, activity_codes)
            out.append(Objective(item["code"].value, pillar, item["title"].text(),
                                 tuple(self._activity(a, pillar, starts, ends) for a in activities)))
        return Plan(node["code"].code(), node["title"].text(), starts, ends, tuple(out))

    def _activity(self, node: _At, pillar: str, plan_start: date, plan_end: date) -> Activity:
        lead = node["lead"].ref(self.orgs, "organisation")
        partners: list[str] = []
        for p in node["partners"].items(allow_empty=True) if node.opt("partners") else []:
            code = p.ref(self.orgs, "organisation")
            if code == lead:
                p.fail(f"'{code}' is the lead, not a partner")
            if code in partners:
                p.fail(f"duplicate partner '{code}'")
            partners.append(code)
        start, end = node["planned_start"].date(), node["planned_end"].date()
        if start < plan_start:
            node["planned_start"].fail(f"{start} is before the plan's start {plan_start}")
        if end > plan_end:
            node["planned_end"].fail(f"{end} is after the plan's end {plan_end}")
        if end < start:
            node["planned_end"].fail(f"{end} is before planned_start {start}")
        return Activity(
            code=node["code"].value,
            pillar=pillar,
            title=node["title"].text(),
            lead=lead,
            partners=tuple(partners),
            region=node["region"].ref(self.regions, "region") if node.opt("region") else None,
            planned_start=start,
            planned_end=end,
            budget=node["budget"].number(minimum=0),
            indicator=node["indicator"].text(),
        )

    # -- projects
    def _projects(self, node: _At) -> tuple[Project, ...]:
        items = node.items(allow_empty=True)
        for item in items:
            item.mapping(("code", "title", "organisation", "starts_on", "ends_on", "outcomes"), ("donor",))
        _unique(items, {})
        self.result_codes: dict[str, str] = {}
        self.indicator_codes: dict[str, str] = {}
        out = []
        for item in items:
            starts, ends = item["starts_on"].date(), item["ends_on"].date()
            if ends <= starts:
                item["ends_on"].fail(f"{ends} is not after starts_on {starts}")
            out.append(Project(
                code=item["code"].value,
                title=item["title"].text(),
                organisation=item["organisation"].ref(self.orgs, "organisation"),
                donor=item["donor"].str() if item.opt("donor") else None,
                starts_on=starts,
                ends_on=ends,
                outcomes=self._results(item["outcomes"], "outcome", ends),
            ))
        return tuple(out)

    def _results(self, node: _At, level: str, project_end: date) -> tuple[Result, ...]:
        items = node.items()
        for item in items:
            item.mapping(("code", "title"), ("outputs", "indicators") if level == "outcome" else ("indicators",))
        _unique(items, self.result_codes)
        out = []
        for item in items:
            children = self._results(item["outputs"], "output", project_end) if item.opt("outputs") else ()
            indicators = item["indicators"].items() if item.opt("indicators") else []
            _unique(indicators, self.indicator_codes)
            out.append(Result(item["code"].value, level, item["title"].text(), children,
                              tuple(self._indicator(i, project_end) for i in indicators)))
        return tuple(out)

    def _indicator(self, node: _At, project_end: date) -> Indicator:
        node.mapping(("code", "label", "unit", "baseline", "baseline_on", "target", "target_on", "direction", "source"),
                     ("disaggregation", "computation"))
        unit = node["unit"].enum(domain.INDICATOR_UNITS, "unit")
        source = node["source"].enum(domain.INDICATOR_SOURCES, "source")
        computation = None
        if source == "computed":
            if not node.opt("computation"):
                node._child("computation", None).fail("missing required key (the source is computed)")
            computation = node["computation"].enum(tuple(COMPUTATIONS), "computation")
            if COMPUTATIONS[computation] != unit:
                node["unit"].fail(f"must be '{COMPUTATIONS[computation]}' for computation '{computation}'")
        elif node.opt("computation"):
            node["computation"].fail("only a computed indicator has a computation")
        lo, hi = {"percent": (0, 100), "yes_no": (0, 1)}.get(unit, (0, None))
        baseline, target = (self._value(node[k], unit, lo, hi) for k in ("baseline", "target"))
        direction = node["direction"].enum(domain.INDICATOR_DIRECTIONS, "direction")
        if (direction == "increase" and target <= baseline) or (direction == "decrease" and target >= baseline):
            node["target"].fail(f"{target:g} is not {'above' if direction == 'increase' else 'below'}"
                                f" the baseline {baseline:g} (direction {direction})")
        baseline_on, target_on = node["baseline_on"].date(), node["target_on"].date()
        if target_on <= baseline_on:
            node["target_on"].fail(f"{target_on} is not after baseline_on {baseline_on}")
        if target_on > project_end:
            node["target_on"].fail(f"{target_on} is after the project's end {project_end}")
        disaggregation = "none"
        if node.opt("disaggregation"):
            disaggregation = node["disaggregation"].enum(DISAGGREGATIONS, "disaggregation")
        return Indicator(node["code"].value, node["label"].text(), unit, baseline, baseline_on, target, target_on,
                         direction, disaggregation, source, computation)

    @staticmethod
    def _value(node: _At, unit: str, lo: float, hi: float | None) -> float:
        value = node.number()
        if value < lo or (hi is not None and value > hi) or (unit == "yes_no" and value not in (0, 1)):
            node.fail(f"{value:g} is out of range for unit {unit}"
                      f" ({'0 or 1' if unit == 'yes_no' else f'{lo}..{hi}' if hi is not None else f'>= {lo}'})")
        return value
