"""What each kind of import file holds: its columns, which are required, their codes,
and the natural key that makes an import repeatable.

One :class:`Kind` per file type. A column's ``name`` is its machine name (accepted as a
header, and the header of English templates is its ``label``); the French header is the
French translation of the label. Headers are matched loosely (case, accents, spaces and
punctuation do not matter), so ``Case code``, ``case_code`` and ``Code du dossier`` all
name the same column.

Coded columns accept the code itself (``female``), its English or French label
(``Female``, ``Femme``) and the variants other standards use (HTCDS ``Feminine``, CTDC
``Woman``): see ``aliases``.
"""
from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from dashboard import domain
from dashboard.domain import N_

HERE = Path(__file__).resolve().parent


def norm(value) -> str:
    """Loose form of a label or header: no accents, lower case, letters and digits only."""
    text = unicodedata.normalize("NFKD", str(value))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z+]", "", text.casefold())


# ---------------------------------------------------------------- code lists not in domain.py
CONTROL_METHOD_LABELS = {
    "physical_threats": N_("Physical threats"),
    "threats_law_enforcement": N_("Threats of law enforcement"),
    "threatens_family": N_("Threatens children/family"),
    "debt_bondage": N_("Debt bondage"),
    "false_promises": N_("False promises"),
    "physical_abuse": N_("Physical abuse"),
    "sexual_abuse": N_("Sexual abuse"),
    "takes_earnings": N_("Takes earnings"),
    "restricts_financial_access": N_("Restricts financial access"),
    "restricts_medical_care": N_("Restricts medical care"),
    "withholds_necessities": N_("Withholds necessities"),
    "psychological_abuse": N_("Psychological abuse"),
    "psychoactive_substance": N_("Psychoactive substance"),
    "excessive_working_hours": N_("Excessive working hours"),
    "withholds_documents": N_("Withholds documents"),
    "other": N_("Other"),
}
REFERRAL_REASON_LABELS = {
    "additional_services": N_("Additional services required"),
    "migration_or_change_of_location": N_("Migration or change of location"),
    "other": N_("Other"),
}
REFERRAL_OUTCOME_LABELS = {"accepted": N_("Accepted"), "declined": N_("Declined")}
DECIDERS = ("police", "ngo", "court_or_prosecution", "non_police_government", "other")
DECIDER_LABELS = {
    "police": N_("Police"),
    "ngo": N_("NGO"),
    "court_or_prosecution": N_("Court or prosecution"),
    "non_police_government": N_("Non-police governmental organisation"),
    "other": N_("Other"),
}
INDICATOR_SEXES = ("all", "female", "male")
INDICATOR_SEX_LABELS = {"all": N_("All"), "female": N_("Female"), "male": N_("Male")}
STAGE_EVENT_LABELS = {**domain.STAGE_LABELS, **domain.JUSTICE_LABELS}
AGE_BAND_LABELS = {b: b for b in domain.AGE_BANDS[:-1]} | {"unknown": N_("Unknown")}

# Variants from HTCDS (template and field reference), CTDC and common spellings.
SEX_ALIASES = {
    "Feminine": "female", "Woman": "female", "F": "female", "Girl": "female", "Femme": "female", "Féminin": "female",
    "Fille": "female",
    "Masculine": "male", "Man": "male", "M": "male", "Boy": "male", "Homme": "male", "Masculin": "male",
    "Garçon": "male", "H": "male",
    "TransgenderFeminine": "trans_nonconforming", "TransgenderMasculine": "trans_nonconforming",
    "NonConforming": "trans_nonconforming", "Transgender/NonConforming": "trans_nonconforming",
    "Trans/Transgender/NonConforming": "trans_nonconforming", "Transgender": "trans_nonconforming",
    "Trans": "trans_nonconforming",
    "NonSpecifiedUnknown": "unknown", "Not specified": "unknown", "Inconnu": "unknown",
}
AGE_ALIASES = {"0--8": "0-8", "9--17": "9-17", "18--20": "18-20", "21--23": "21-23", "24--26": "24-26",
               "27--29": "27-29", "30--38": "30-38", "39--47": "39-47", "48+": "48+"}
STATUS_ALIASES = {
    "Possible victim of trafficking": "possible", "Actual victim of trafficking": "actual",
    "Not a victim of trafficking": "not_victim", "Possible": "possible", "Actual": "actual",
}
DECIDER_ALIASES = {"Non-police governmental organization": "non_police_government",
                   "Court": "court_or_prosecution", "Prosecution": "court_or_prosecution"}
CASE_STATUS_ALIASES = {"Closed Referred": "closed_referred", "Closed - referred": "closed_referred"}
EXPLOITATION_ALIASES = {"Forced military (by non-state actors)": "forced_military"}
REASON_ALIASES = {"Additional Services Required": "additional_services"}


@lru_cache(maxsize=1)
def countries() -> dict[str, str]:
    """ISO 3166 alpha-2 code -> English name (the HTCDS v2.0 country list)."""
    with (HERE / "countries.csv").open(encoding="utf-8", newline="") as fh:
        return {row["code"]: row["name"] for row in csv.DictReader(fh)}


# ---------------------------------------------------------------- specs
# Column types: text, code (an identifier), date, int, number, choice, multi (several
# choices separated by ; or |), country, ref (a code of a row in a reference table).
@dataclass(frozen=True)
class Column:
    name: str
    label: str  # msgid, the English header
    type: str = "text"
    required: bool = False
    help: str = ""  # msgid: what the column holds
    choices: tuple[str, ...] = ()
    labels: dict = field(default_factory=dict)  # code -> label msgid
    aliases: dict = field(default_factory=dict)  # other spelling -> code
    ref: str | None = None  # region | organisation | shelter | case | referral | activity | indicator
    past_only: bool = False  # a date that may not be after today
    minimum: float | None = None
    maximum: float | None = None
    max_len: int | None = None
    default: object = None  # value for a blank cell (and for new rows when the column is absent)

    @property
    def coded(self) -> bool:
        return self.type in ("choice", "multi", "ref", "country")


@dataclass(frozen=True)
class Kind:
    name: str
    label: str  # msgid
    description: str  # msgid
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # natural key (column names)
    key_label: str  # msgid, for "same ... as row n"

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


def _choice(name, label, choices, labels, required=False, help="", aliases=None, default=None, multi=False):
    return Column(name, label, "multi" if multi else "choice", required=required, help=help, choices=tuple(choices),
                  labels=labels, aliases=aliases or {}, default=default)


CASE_CODE_HELP = N_("Pseudonymous case code (never a name)")
DATE_HELP = N_("Date (YYYY-MM-DD or DD/MM/YYYY)")

CASES = Kind(
    "cases", N_("Cases"),
    N_("One row per case, known by its pseudonymous code. Importing a case again updates it."),
    (
        Column("code", N_("Case code"), "code", required=True, help=CASE_CODE_HELP, max_len=40),
        Column("region", N_("Region"), "ref", required=True, ref="region", help=N_("Region code or name")),
        _choice("sex", N_("Sex"), domain.SEXES, domain.SEX_LABELS, required=True, aliases=SEX_ALIASES),
        _choice("age_band", N_("Age band"), domain.AGE_BANDS, AGE_BAND_LABELS, required=True, aliases=AGE_ALIASES,
                help=N_("Age band at identification")),
        Column("nationality", N_("Nationality"), "country", help=N_("ISO 3166 alpha-2 country code or English name")),
        _choice("trafficking_status", N_("Trafficking status"), domain.TRAFFICKING_STATUSES,
                domain.TRAFFICKING_STATUS_LABELS, required=True, aliases=STATUS_ALIASES),
        _choice("status_decided_by", N_("Status decided by"), DECIDERS, DECIDER_LABELS, aliases=DECIDER_ALIASES),
        Column("identified_on", N_("Identification date"), "date", required=True, past_only=True, help=DATE_HELP),
        Column("identified_by", N_("Identified by"), "ref", ref="organisation", help=N_("Organisation code or name")),
        _choice("case_status", N_("Case status"), domain.CASE_STATUSES, domain.CASE_STATUS_LABELS, required=True,
                aliases=CASE_STATUS_ALIASES),
        Column("owner", N_("Case owner"), "ref", ref="organisation",
               help=N_("Organisation holding the case now (code or name)")),
        _choice("current_stage", N_("Current stage"), domain.STAGES, domain.STAGE_LABELS, required=True),
        _choice("exploitation", N_("Types of exploitation"), domain.EXPLOITATION_TYPES, domain.EXPLOITATION_LABELS,
                aliases=EXPLOITATION_ALIASES, multi=True, help=N_("One or more, separated by semicolons (;)")),
        _choice("control_methods", N_("Methods of control"), domain.CONTROL_METHODS, CONTROL_METHOD_LABELS,
                multi=True, help=N_("One or more, separated by semicolons (;)")),
    ),
    key=("code",), key_label=N_("case code"),
)

STAGE_EVENTS = Kind(
    "stage_events", N_("Stage events"),
    N_("One row per stage a case reached (referral chain or justice track), with its date."),
    (
        Column("case", N_("Case code"), "ref", required=True, ref="case", help=CASE_CODE_HELP),
        _choice("stage", N_("Stage"), domain.STAGES + domain.JUSTICE_STEPS, STAGE_EVENT_LABELS, required=True),
        Column("occurred_on", N_("Date"), "date", required=True, past_only=True, help=DATE_HELP),
        Column("organisation", N_("Organisation"), "ref", ref="organisation", help=N_("Organisation code or name")),
        _choice("outcome", N_("Judgement outcome"), domain.JUDGEMENT_OUTCOMES, domain.JUDGEMENT_LABELS,
                help=N_("Only for a judgement")),
    ),
    key=("case", "stage", "occurred_on"), key_label=N_("case, stage and date"),
)

REFERRALS = Kind(
    "referrals", N_("Referrals"),
    N_("One row per hand-off of a case from one organisation to another."),
    (
        Column("code", N_("Referral code"), "code", required=True, max_len=48),
        Column("case", N_("Case code"), "ref", required=True, ref="case", help=CASE_CODE_HELP),
        Column("from_org", N_("From organisation"), "ref", required=True, ref="organisation",
               help=N_("Organisation code or name")),
        Column("to_org", N_("To organisation"), "ref", required=True, ref="organisation",
               help=N_("Organisation code or name")),
        _choice("reason", N_("Reason"), domain.REFERRAL_REASONS, REFERRAL_REASON_LABELS, aliases=REASON_ALIASES),
        _choice("service_type", N_("Service asked for"), domain.SERVICE_TYPES, domain.SERVICE_LABELS),
        Column("sent_on", N_("Sent on"), "date", required=True, past_only=True, help=DATE_HELP),
        Column("acknowledged_on", N_("Acknowledged on"), "date", past_only=True, help=DATE_HELP),
        Column("decided_on", N_("Decided on"), "date", past_only=True, help=DATE_HELP),
        _choice("outcome", N_("Outcome"), domain.REFERRAL_OUTCOMES, REFERRAL_OUTCOME_LABELS,
                help=N_("Required when there is a decision date")),
        _choice("decline_reason", N_("Decline reason"), domain.DECLINE_REASONS, domain.DECLINE_REASON_LABELS,
                help=N_("Only for a declined referral")),
        Column("first_service_on", N_("First service on"), "date", past_only=True, help=DATE_HELP),
    ),
    key=("code",), key_label=N_("referral code"),
)

SERVICES = Kind(
    "services", N_("Services"),
    N_("One row per service (assistance) a case received."),
    (
        Column("code", N_("Service code"), "code", required=True, max_len=48),
        Column("case", N_("Case code"), "ref", required=True, ref="case", help=CASE_CODE_HELP),
        Column("referral", N_("Referral code"), "ref", ref="referral",
               help=N_("The referral this service answers (optional)")),
        _choice("service_type", N_("Service"), domain.SERVICE_TYPES, domain.SERVICE_LABELS, required=True),
        Column("provider", N_("Provider"), "ref", required=True, ref="organisation",
               help=N_("Organisation code or name")),
        Column("started_on", N_("Started on"), "date", required=True, past_only=True, help=DATE_HELP),
        Column("ended_on", N_("Ended on"), "date", past_only=True, help=DATE_HELP),
    ),
    key=("code",), key_label=N_("service code"),
)

SHELTER_STAYS = Kind(
    "shelter_stays", N_("Shelter stays"),
    N_("One row per stay of a case in a shelter; leave the exit date empty while the person is there."),
    (
        Column("case", N_("Case code"), "ref", required=True, ref="case", help=CASE_CODE_HELP),
        Column("shelter", N_("Shelter"), "ref", required=True, ref="shelter", help=N_("Shelter code or name")),
        Column("entered_on", N_("Entry date"), "date", required=True, past_only=True, help=DATE_HELP),
        Column("exited_on", N_("Exit date"), "date", past_only=True, help=DATE_HELP),
        _choice("exit_destination", N_("Exit destination"), domain.EXIT_DESTINATIONS, domain.EXIT_DESTINATION_LABELS,
                help=N_("Only with an exit date")),
    ),
    key=("case", "shelter", "entered_on"), key_label=N_("case, shelter and entry date"),
)

SHELTER_CAPACITY = Kind(
    "shelter_capacity", N_("Shelter capacity"),
    N_("Beds of a shelter from a date (inclusive) to a date (exclusive; empty while still valid)."),
    (
        Column("shelter", N_("Shelter"), "ref", required=True, ref="shelter", help=N_("Shelter code or name")),
        Column("valid_from", N_("Valid from"), "date", required=True, help=DATE_HELP),
        Column("valid_to", N_("Valid until (exclusive)"), "date", help=DATE_HELP),
        Column("beds_women", N_("Beds for women"), "int", minimum=0, maximum=100_000, default=0),
        Column("beds_men", N_("Beds for men"), "int", minimum=0, maximum=100_000, default=0),
        Column("beds_girls", N_("Beds for girls"), "int", minimum=0, maximum=100_000, default=0),
        Column("beds_boys", N_("Beds for boys"), "int", minimum=0, maximum=100_000, default=0),
    ),
    key=("shelter", "valid_from"), key_label=N_("shelter and start date"),
)

ACTIVITY_UPDATES = Kind(
    "activity_updates", N_("Plan activity updates"),
    N_("One row per status change of a National Action Plan activity; the latest sets its status."),
    (
        Column("activity", N_("Activity code"), "ref", required=True, ref="activity"),
        Column("changed_on", N_("Date of change"), "date", required=True, past_only=True, help=DATE_HELP),
        _choice("status", N_("Status"), domain.ACTIVITY_STATUSES, domain.ACTIVITY_STATUS_LABELS, required=True),
        Column("evidence_note", N_("Evidence note"), "text", max_len=2000),
        Column("budget_spent", N_("Budget spent"), "number", minimum=0, help=N_("Total spent so far")),
    ),
    key=("activity", "changed_on", "status"), key_label=N_("activity, date and status"),
)

INDICATOR_VALUES = Kind(
    "indicator_values", N_("Indicator values"),
    N_("One row per value of a manual project indicator for a period (and sex, when disaggregated)."),
    (
        Column("indicator", N_("Indicator code"), "ref", required=True, ref="indicator"),
        Column("period_start", N_("Period start"), "date", required=True, past_only=True, help=DATE_HELP),
        Column("period_end", N_("Period end"), "date", required=True, help=DATE_HELP),
        _choice("sex", N_("Sex"), INDICATOR_SEXES, INDICATOR_SEX_LABELS, aliases=SEX_ALIASES, default="all"),
        Column("value", N_("Value"), "number", required=True),
        Column("note", N_("Note"), "text", max_len=2000),
    ),
    key=("indicator", "period_start", "period_end", "sex"), key_label=N_("indicator, period and sex"),
)

# The HTCDS case sheet has its own layout (dashboard.ingest.htcds); this spec lists the
# columns the dashboard reads, for templates and the page. Headers are HTCDS field names.
HTCDS_PERSONAL = ("prs_Salutation", "prs_FirstName", "prs_SecondName", "prs_Birthdate", "prs_Title", "prs_Email",
                  "prs_HomePhone", "prs_MobilePhone", "prs_MailingStreet", "prs_MailingCity", "prs_MailingState",
                  "prs_MailingPostalCode", "prs_MailingCountry")

HTCDS = Kind(
    "htcds", N_("HTCDS case sheet"),
    N_("A filled IOM HTCDS v2.0 case sheet. Names and the birth date are read only to recognise the person "
       "(a keyed hash) and to compute the age band: they are never stored."),
    (
        Column("cas_CaseOwner", N_("Case Owner"), "ref", required=True, ref="organisation",
               help=N_("Organisation holding the case (code or name); gives the region")),
        Column("prs_FirstName", N_("First Name"), "text", help=N_("Hashed, never stored")),
        Column("prs_SecondName", N_("Second Name"), "text", help=N_("Hashed, never stored")),
        Column("prs_Birthdate", N_("Birthdate"), "date", help=N_("Turned into an age band, never stored")),
        _choice("prs_Gender", N_("Gender"), domain.SEXES, domain.SEX_LABELS, aliases=SEX_ALIASES),
        Column("prs_Citizenship", N_("Citizenship"), "country", help=N_("Country name or ISO alpha-2 code")),
        _choice("vic_TraffickingStatus", N_("Trafficking Status"), domain.TRAFFICKING_STATUSES,
                domain.TRAFFICKING_STATUS_LABELS, aliases=STATUS_ALIASES),
        _choice("vic_TraffickinStatusDecisionMakingOrg", N_("Trafficking Status Decision Making Organization"),
                DECIDERS, DECIDER_LABELS, aliases=DECIDER_ALIASES),
        _choice("vic_MethodsOfControl", N_("Methods of Control"), domain.CONTROL_METHODS, CONTROL_METHOD_LABELS,
                multi=True),
        _choice("vic_TypeOfExploitation", N_("Type of Exploitation"), domain.EXPLOITATION_TYPES,
                domain.EXPLOITATION_LABELS, aliases=EXPLOITATION_ALIASES, multi=True),
        _choice("cas_Status", N_("Status"), domain.CASE_STATUSES, domain.CASE_STATUS_LABELS,
                aliases=CASE_STATUS_ALIASES),
        Column("cas_ReferringOrganisation", N_("Referring Organisation"), "ref", ref="organisation",
               help=N_("Organisation code or name")),
        Column("cas_IncomingReferralDate", N_("Incoming Referral Date"), "date", required=True, past_only=True,
               help=N_("Date the case owner received the case: the identification date")),
        _choice("cas_ReasonForIncomingReferral", N_("Reason for Incoming Referral"), domain.REFERRAL_REASONS,
                REFERRAL_REASON_LABELS, aliases=REASON_ALIASES),
        Column("cas_ReferredOrganisation", N_("Referred Organisation"), "ref", ref="organisation",
               help=N_("Organisation code or name")),
        _choice("cas_ReasonForOutgoingReferral", N_("Reason for Outgoing Referral"), domain.REFERRAL_REASONS,
                REFERRAL_REASON_LABELS, aliases=REASON_ALIASES),
        Column("cas_OutgoingReferralDate", N_("Outgoing Referral Date"), "date", past_only=True, help=DATE_HELP),
    ),
    key=("person",), key_label=N_("person"),
)

KINDS: dict[str, Kind] = {k.name: k for k in (CASES, STAGE_EVENTS, REFERRALS, SERVICES, SHELTER_STAYS,
                                                 SHELTER_CAPACITY, ACTIVITY_UPDATES, INDICATOR_VALUES, HTCDS)}


def get(kind: str) -> Kind:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})") from None


def choice_index(column: Column, translate_fr=None) -> dict[str, str]:
    """Loose spelling -> code for a choice column: code, EN label, FR label, aliases."""
    index: dict[str, str] = {}
    for alias, code in column.aliases.items():
        index[norm(alias)] = code
    for code in column.choices:
        label = column.labels.get(code, code)
        for spelling in (label, translate_fr(label) if translate_fr else None):
            if spelling:
                index.setdefault(norm(spelling), code)
        index[norm(code)] = code  # the code itself always wins
    return index
