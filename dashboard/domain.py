"""Code lists of the domain (../shared/DOMAIN.md), one place for every module.

Labels are msgids marked with ``N_`` so Babel extracts them; translate them at
display time with the session's translator (``dashboard.i18n``).
"""
from __future__ import annotations

from datetime import date


def N_(message: str) -> str:
    """Mark a string for translation without translating it here."""
    return message


ROLES = ("admin", "committee", "minister", "partner")
CASE_LEVEL_ROLES = frozenset({"admin", "committee"})
ROLE_LABELS = {
    "admin": N_("Administrator"),
    "committee": N_("Committee member"),
    "minister": N_("Minister"),
    "partner": N_("Partner staff"),
}

# Referral chain, in order.
STAGES = ("detection", "identification", "immediate_assistance", "protection", "return_reintegration", "closed")
STAGE_LABELS = {
    "detection": N_("Detection / report"),
    "identification": N_("Identification"),
    "immediate_assistance": N_("Immediate assistance"),
    "protection": N_("Medium/long-term protection"),
    "return_reintegration": N_("Return and reintegration"),
    "closed": N_("Case closed"),
}
JUSTICE_STEPS = ("complaint", "investigation", "prosecution", "judgement")
JUSTICE_LABELS = {
    "complaint": N_("Complaint"),
    "investigation": N_("Investigation"),
    "prosecution": N_("Prosecution"),
    "judgement": N_("Judgement"),
}
JUDGEMENT_OUTCOMES = ("conviction", "acquittal", "dismissed")
JUDGEMENT_LABELS = {"conviction": N_("Conviction"), "acquittal": N_("Acquittal"), "dismissed": N_("Dismissed")}

ORG_TYPES = (
    "NGO",
    "LawEnforcement",
    "HealthServiceOrganisation",
    "CentralGovernmentOrganisation",
    "LocalGovernmentOrganisation",
    "ImmigrationService",
    "LegalService",
    "CorporateBusiness",
    "InternationalOrganisation",
    "Shelter",
)
ORG_TYPE_LABELS = {
    "NGO": N_("NGO"),
    "LawEnforcement": N_("Law enforcement"),
    "HealthServiceOrganisation": N_("Health service"),
    "CentralGovernmentOrganisation": N_("Central government"),
    "LocalGovernmentOrganisation": N_("Local government"),
    "ImmigrationService": N_("Immigration service"),
    "LegalService": N_("Legal service"),
    "CorporateBusiness": N_("Business"),
    "InternationalOrganisation": N_("International organisation"),
    "Shelter": N_("Shelter"),
}

SEXES = ("female", "male", "trans_nonconforming", "unknown")
SEX_LABELS = {
    "female": N_("Female"),
    "male": N_("Male"),
    "trans_nonconforming": N_("Transgender / non-conforming"),
    "unknown": N_("Unknown"),
}

AGE_BANDS = ("0-8", "9-17", "18-20", "21-23", "24-26", "27-29", "30-38", "39-47", "48+", "unknown")
MINOR_BANDS = frozenset({"0-8", "9-17"})


def age_band(age: int | None) -> str:
    """CTDC age band of an age in whole years."""
    if age is None or age < 0:
        return "unknown"
    for upper, band in ((8, "0-8"), (17, "9-17"), (20, "18-20"), (23, "21-23"), (26, "24-26"), (29, "27-29"), (38, "30-38"), (47, "39-47")):
        if age <= upper:
            return band
    return "48+"


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


TRAFFICKING_STATUSES = ("possible", "actual", "not_victim")
TRAFFICKING_STATUS_LABELS = {
    "possible": N_("Possible victim"),
    "actual": N_("Actual victim"),
    "not_victim": N_("Not a victim"),
}
CASE_STATUSES = ("active", "follow_up", "closed", "closed_referred")
CASE_STATUS_LABELS = {
    "active": N_("Active"),
    "follow_up": N_("Follow up"),
    "closed": N_("Closed"),
    "closed_referred": N_("Closed (referred)"),
}

EXPLOITATION_TYPES = (
    "forced_labour",
    "sexual_exploitation",
    "child_labour",
    "forced_marriage",
    "servitude",
    "forced_military",
    "organ_removal",
    "forced_begging",
    "forced_adoption",
    "surrogacy",
    "other",
)
EXPLOITATION_LABELS = {
    "forced_labour": N_("Forced labour"),
    "sexual_exploitation": N_("Sexual exploitation"),
    "child_labour": N_("Child labour"),
    "forced_marriage": N_("Forced marriage"),
    "servitude": N_("Servitude"),
    "forced_military": N_("Forced military (non-state actors)"),
    "organ_removal": N_("Organ removal"),
    "forced_begging": N_("Forced begging"),
    "forced_adoption": N_("Forced adoption"),
    "surrogacy": N_("Surrogacy"),
    "other": N_("Other"),
}

CONTROL_METHODS = (
    "physical_threats",
    "threats_law_enforcement",
    "threatens_family",
    "debt_bondage",
    "false_promises",
    "physical_abuse",
    "sexual_abuse",
    "takes_earnings",
    "restricts_financial_access",
    "restricts_medical_care",
    "withholds_necessities",
    "psychological_abuse",
    "psychoactive_substance",
    "excessive_working_hours",
    "withholds_documents",
    "other",
)

REFERRAL_REASONS = ("additional_services", "migration_or_change_of_location", "other")
REFERRAL_OUTCOMES = ("accepted", "declined")
DECLINE_REASONS = ("no_capacity", "not_eligible", "person_refused", "other")
DECLINE_REASON_LABELS = {
    "no_capacity": N_("No capacity"),
    "not_eligible": N_("Not eligible"),
    "person_refused": N_("Person refused"),
    "other": N_("Other"),
}

SERVICE_TYPES = (
    "shelter",
    "food",
    "medical",
    "psychosocial",
    "non_food_items",
    "legal",
    "vulnerability_screening",
    "family_tracing",
    "education_vocational",
    "livelihood",
    "financial",
    "assisted_voluntary_return",
    "reintegration",
    "other",
)
SERVICE_LABELS = {
    "shelter": N_("Shelter"),
    "food": N_("Food"),
    "medical": N_("Medical"),
    "psychosocial": N_("Psychosocial"),
    "non_food_items": N_("Non-food items"),
    "legal": N_("Legal"),
    "vulnerability_screening": N_("Vulnerability screening"),
    "family_tracing": N_("Family tracing"),
    "education_vocational": N_("Education / vocational training"),
    "livelihood": N_("Livelihood"),
    "financial": N_("Financial"),
    "assisted_voluntary_return": N_("Assisted voluntary return"),
    "reintegration": N_("Reintegration"),
    "other": N_("Other"),
}

EXIT_DESTINATIONS = ("family", "independent_living", "other_shelter", "returned_home_country", "absconded", "other")
EXIT_DESTINATION_LABELS = {
    "family": N_("Family"),
    "independent_living": N_("Independent living"),
    "other_shelter": N_("Another shelter"),
    "returned_home_country": N_("Returned to home country"),
    "absconded": N_("Left without notice"),
    "other": N_("Other"),
}

# Shelter bed categories and how a case maps to one.
BED_CATEGORIES = ("women", "men", "girls", "boys")
BED_LABELS = {"women": N_("Women"), "men": N_("Men"), "girls": N_("Girls"), "boys": N_("Boys")}

PILLARS = ("prevention", "protection", "prosecution", "partnership")
PILLAR_LABELS = {
    "prevention": N_("Prevention"),
    "protection": N_("Protection"),
    "prosecution": N_("Prosecution"),
    "partnership": N_("Partnership"),
}
ACTIVITY_STATUSES = ("not_started", "in_progress", "delayed", "completed", "cancelled")
ACTIVITY_STATUS_LABELS = {
    "not_started": N_("Not started"),
    "in_progress": N_("In progress"),
    "delayed": N_("Delayed"),
    "completed": N_("Completed"),
    "cancelled": N_("Cancelled"),
}
CLOSED_ACTIVITY_STATUSES = frozenset({"completed", "cancelled"})

INDICATOR_UNITS = ("number", "percent", "days", "yes_no")
INDICATOR_DIRECTIONS = ("increase", "decrease")
INDICATOR_SOURCES = ("manual", "computed")


def days_between(start: date | None, end: date | None) -> int | None:
    if start is None or end is None:
        return None
    return (end - start).days


def referral_intervals(sent_on: date, acknowledged_on: date | None, decided_on: date | None, first_service_on: date | None) -> dict:
    """The whole-day intervals stored with every referral (see schema.referrals)."""
    return {
        "days_to_acknowledge": days_between(sent_on, acknowledged_on),
        "days_to_decision": days_between(sent_on, decided_on),
        "days_to_first_service": days_between(sent_on, first_service_on),
    }
