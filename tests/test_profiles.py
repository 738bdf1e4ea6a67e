"""Country profiles: the two shipped profiles load, and broken ones say exactly what is wrong."""
from __future__ import annotations

from datetime import date

import pytest
import yaml

from dashboard import domain
from dashboard.profiles import (
    COMPUTATIONS,
    PROFILES_DIR,
    ProfileError,
    Text,
    available_profiles,
    load_profile,
)

NAMES = ["mali", "mauritius"]


# ---------------------------------------------------------------- the real profiles
def test_available_profiles():
    assert set(NAMES) <= set(available_profiles())


@pytest.mark.parametrize("name", NAMES)
def test_profile_loads_and_is_complete(name):
    p = load_profile(name)
    assert p.code == name
    assert p.default_language in ("fr", "en")
    assert all(r.population > 0 for r in p.regions)

    # the referral chain is covered
    types = [o.org_type for o in p.organisations]
    for needed in ("LawEnforcement", "LegalService", "CentralGovernmentOrganisation", "ImmigrationService",
                   "HealthServiceOrganisation", "Shelter", "InternationalOrganisation", "LocalGovernmentOrganisation"):
        assert needed in types, needed
    assert 3 <= types.count("NGO") <= 5
    assert len(p.organisations) >= 20
    for org_type in set(types) - {"CorporateBusiness"}:
        assert p.target_days(org_type) is not None

    # shelters: four, dated capacity, at least one that grows
    assert len(p.shelters) == 4
    assert all(p.org_by_code[sh.organisation].org_type == "Shelter" for sh in p.shelters)
    assert any(len(sh.capacity) > 1 and sh.capacity[-1].total > sh.capacity[0].total for sh in p.shelters)
    for sh in p.shelters:
        assert sh.capacity[-1].valid_to is None
        for before, after in zip(sh.capacity, sh.capacity[1:]):
            assert before.valid_to == after.valid_from

    assert (p.review.no_assistance_days, p.review.long_stay_days, p.review.no_movement_days,
            p.review.shelter_full_pct) == (7, 90, 60, 90)

    # the plan: 32-40 activities over the four pillars, inside the plan's dates
    activities = p.plan.activities
    assert 32 <= len(activities) <= 40
    assert {a.pillar for a in activities} == set(domain.PILLARS)
    assert len({a.code for a in activities}) == len(activities)
    for a in activities:
        assert p.plan.starts_on <= a.planned_start <= a.planned_end <= p.plan.ends_on
        assert a.budget > 0 and a.lead in p.org_by_code and a.title.fr != a.title.en

    # projects: 9-12 indicators, a mix of sources, directions and disaggregations
    assert p.projects
    for project in p.projects:
        indicators = project.indicators
        assert 9 <= len(indicators) <= 12
        assert sum(i.source == "computed" for i in indicators) >= 3
        assert sum(i.source == "manual" for i in indicators) >= 4
        assert any(i.direction == "decrease" for i in indicators)
        assert sum(i.disaggregation == "sex" for i in indicators) >= 2
        for i in indicators:
            assert (i.computation in COMPUTATIONS) == (i.source == "computed")


def test_mali_specifics():
    p = load_profile("mali")
    assert p.region_codes == ("ML-BKO", *(f"ML-{n}" for n in range(1, 11)))
    assert (p.country_iso2, p.currency) == ("ML", "XOF")
    assert p.plan.starts_on == date(2023, 1, 1) and p.plan.ends_on == date(2027, 12, 31)
    assert "2023–2027" in p.plan.title.fr
    assert p.projects[0].code == "COMPASS-ML" and p.projects[0].organisation == "IOM-ML"
    assert p.target_days("NGO", "food") == 3 and p.target_days("NGO", "medical") == 5


def test_mauritius_specifics():
    p = load_profile("mauritius")
    assert set(p.region_codes) == {"MU-PL", "MU-PA", "MU-RR", "MU-FL", "MU-GP", "MU-SA", "MU-PW", "MU-MO",
                                   "MU-BL", "MU-RO"}
    assert (p.country_iso2, p.currency) == ("MU", "MUR")
    assert p.plan.title.en == "National Action Plan to Combat Trafficking in Persons 2025–2029"
    (project,) = p.projects
    assert project.title.en == "Enhancing the 4Ps Approach to Counter Trafficking in Mauritius"
    assert (project.starts_on, project.ends_on) == (date(2025, 7, 1), date(2027, 6, 30))
    assert p.org_by_code["PATU"].name == "Police Anti-Trafficking Unit, Mauritius Police Force"


def test_text_get():
    t = Text(fr="Bonjour", en="Hello")
    assert (t.get("fr"), t.get("en"), t.get("en_GB")) == ("Bonjour", "Hello", "Hello")


def test_a_profile_by_path(tmp_path):
    path = tmp_path / "mali.yaml"
    path.write_text((PROFILES_DIR / "mali.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert load_profile(path) == load_profile("mali")


def test_unknown_profile():
    with pytest.raises(ProfileError, match=r"^atlantis\.yaml: no such profile \(available: .*mali"):
        load_profile("atlantis")


# ---------------------------------------------------------------- broken profiles
def _set(*path, value):
    def mutate(doc):
        for key in path[:-1]:
            doc = doc[key]
        doc[path[-1]] = value
    return mutate


def _del(*path):
    def mutate(doc):
        for key in path[:-1]:
            doc = doc[key]
        del doc[path[-1]]
    return mutate


ACT = ("plan", "objectives", 0, "activities", 0)
IND = ("projects", 0, "outcomes", 0, "outputs", 0, "indicators")
IND_PATH = "projects[0].outcomes[0].outputs[0].indicators"

BROKEN = [
    ("org type", _set("organisations", 3, "type", value="Polise"),
     "organisations[3].type: unknown organisation type 'Polise' (expected one of NGO, LawEnforcement, "
     "HealthServiceOrganisation, CentralGovernmentOrganisation, LocalGovernmentOrganisation, ImmigrationService, "
     "LegalService, CorporateBusiness, InternationalOrganisation, Shelter)"),
    ("org region", _set("organisations", 0, "region", value="ML-99"),
     "organisations[0].region: unknown region 'ML-99'"),
    ("duplicate org", _set("organisations", 2, "code", value="POL-BKO"),
     "organisations[2].code: duplicate code 'POL-BKO' (also organisations[1])"),
    ("bad code", _set("organisations", 0, "code", value="cnltp"),
     "organisations[0].code: invalid code 'cnltp' (uppercase letters and digits, joined by '-', '_' or '.'; "
     "at most 32 characters)"),
    ("missing population", _del("regions", 0, "population"),
     "regions[0].population: missing required key"),
    ("zero population", _set("regions", 4, "population", value=0),
     "regions[4].population: expected a positive integer, got 0"),
    ("text population", _set("regions", 4, "population", value="3 276 070"),
     "regions[4].population: expected a positive integer, got '3 276 070'"),
    ("region prefix", _set("regions", 1, "code", value="MU-1"),
     "regions[1].code: region code 'MU-1' does not start with 'ML-'"),
    ("unknown top-level key", _set("statuses", value={}),
     "statuses: unknown key (expected one of code, name, country_iso2, default_language, currency, regions, "
     "organisations, shelters, referral_targets, review, plan, projects)"),
    ("invalid date", _set("plan", "starts_on", value="2023-02-30"),
     "plan.starts_on: expected a date YYYY-MM-DD, got '2023-02-30'"),
    ("activity after plan", _set(*ACT, "planned_end", value=date(2028, 6, 30)),
     "plan.objectives[0].activities[0].planned_end: 2028-06-30 is after the plan's end 2027-12-31"),
    ("activity ends before start", _set(*ACT, "planned_end", value=date(2023, 1, 15)),
     "plan.objectives[0].activities[0].planned_end: 2023-01-15 is before planned_start 2023-03-01"),
    ("unknown lead", _set(*ACT, "lead", value="DNSS"),
     "plan.objectives[0].activities[0].lead: unknown organisation 'DNSS'"),
    ("unknown partner", _set(*ACT, "partners", value=["IOM-ML", "UNICEF"]),
     "plan.objectives[0].activities[0].partners[1]: unknown organisation 'UNICEF'"),
    ("status in profile", _set(*ACT, "status", value="completed"),
     "plan.objectives[0].activities[0].status: unknown key (expected one of code, title, lead, planned_start, "
     "planned_end, budget, indicator, partners, region)"),
    ("pillar", _set("plan", "objectives", 0, "pillar", value="prevent"),
     "plan.objectives[0].pillar: unknown pillar 'prevent' (expected one of prevention, protection, prosecution, "
     "partnership)"),
    ("title without en", _set("plan", "objectives", 0, "title", value={"fr": "Prévenir"}),
     "plan.objectives[0].title.en: missing required key"),
    ("capacity overlap", _set("shelters", 0, "capacity", 1, "from", value=date(2024, 1, 1)),
     "shelters[0].capacity[1].from: 2024-01-01 is before the end of the previous period (2024-07-01)"),
    ("open period not last", _del("shelters", 0, "capacity", 0, "to"),
     "shelters[0].capacity[0].to: missing required key (only the last period may be open-ended)"),
    ("shelter organisation", _set("shelters", 1, "organisation", value="XYZ"),
     "shelters[1].organisation: unknown organisation 'XYZ'"),
    ("missing referral target", _del("referral_targets", 0),
     "referral_targets: no target for organisation type 'Shelter', which receives referrals "
     "(add one without a service)"),
    ("target service", _set("referral_targets", 2, "service", value="meals"),
     f"referral_targets[2].service: unknown service 'meals' (expected one of {', '.join(domain.SERVICE_TYPES)})"),
    ("review percentage", _set("review", "shelter_full_pct", value=150),
     "review.shelter_full_pct: expected a percentage between 1 and 100, got 150"),
    ("project organisation", _set("projects", 0, "organisation", value="OIM"),
     "projects[0].organisation: unknown organisation 'OIM'"),
    ("computed without computation", _del(*IND, 0, "computation"),
     f"{IND_PATH}[0].computation: missing required key (the source is computed)"),
    ("unknown computation", _set(*IND, 0, "computation", value="victims"),
     f"{IND_PATH}[0].computation: unknown computation 'victims' (expected one of {', '.join(COMPUTATIONS)})"),
    ("unit of computation", _set(*IND, 1, "unit", value="number"),
     f"{IND_PATH}[1].unit: must be 'days' for computation 'median_days_to_first_service'"),
    ("target against direction", _set(*IND, 1, "target", value=12),
     f"{IND_PATH}[1].target: 12 is not below the baseline 10 (direction decrease)"),
    ("duplicate indicator", _set("projects", 0, "outcomes", 0, "outputs", 1, "indicators", 0, "code",
                                 value="CMP-ML-1.1.1"),
     "projects[0].outcomes[0].outputs[1].indicators[0].code: duplicate code 'CMP-ML-1.1.1' "
     f"(also {IND_PATH}[0])"),
]


@pytest.mark.parametrize("mutate, expected", [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_broken_profile(tmp_path, mutate, expected):
    doc = yaml.safe_load((PROFILES_DIR / "mali.yaml").read_text(encoding="utf-8"))
    mutate(doc)
    path = tmp_path / "mali.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ProfileError) as exc:
        load_profile(path)
    assert str(exc.value) == f"mali.yaml: {expected}"


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize("edit, problem", [
    (lambda t: t.replace("starts_on: 2023-01-01", "starts_on: 2023-02-30", 1),
     ("starts_on: 2023-02-30", 14, "invalid date '2023-02-30' (day is out of range for month)")),
    (lambda t: t.replace("currency: XOF\n", "currency: XOF\ncurrency: EUR\n", 1),
     ("currency: EUR", 1, "duplicate key 'currency'")),
    (lambda t: t.replace("country_iso2: ML\n", "country_iso2: ML\n  oops: 1\n", 1),
     ("oops: 1", 7, "mapping values are not allowed here")),
], ids=["impossible date", "duplicate key", "syntax"])
def test_yaml_errors_give_the_line(tmp_path, edit, problem):
    needle, column, message = problem
    text = edit((PROFILES_DIR / "mali.yaml").read_text(encoding="utf-8"))
    (tmp_path / "mali.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError) as exc:
        load_profile(tmp_path / "mali.yaml")
    assert str(exc.value) == f"mali.yaml: line {_line_of(text, needle)}, column {column}: {message}"
