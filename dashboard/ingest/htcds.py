"""Map a filled HTCDS v2.0 case sheet (IOM's Human Trafficking Case Data Standard) to
the dashboard's model, keeping nobody's identity.

Layout: row 1 holds the HTCDS field names (``cas_CaseOwner``, ``prs_FirstName``, ...),
row 2 the human labels (skipped when present), data from row 3. A column whose field name
is blank (the template leaves *Reason for Outgoing Referral* unnamed) is recognised by
its label. Sheets saved as CSV work the same way.

What each row becomes:

- a **case**: region = the region of the identifying organisation (the case owner),
  identification date = ``cas_IncomingReferralDate``, sex from ``prs_Gender`` (HTCDS
  template, field-reference and CTDC variants), nationality from ``prs_Citizenship``,
  trafficking status and who decided it, case status, exploitation types and methods of
  control (several may be given, separated by ``;``). Current stage: ``closed`` for a
  closed case, else ``identification``. Blank gender → unknown, blank status → active,
  blank trafficking status → possible victim.
- an ``identification`` stage event on the identification date, by the case owner;
- the **incoming referral** (referring organisation → case owner, sent on the incoming
  referral date, recorded as accepted that day: the owner opened the case) and the
  **outgoing referral** (case owner → referred organisation, sent on the outgoing date,
  no decision yet). Organisations must match the dashboard's by code or name.

Personal columns (``prs_FirstName``, ``prs_SecondName``, ``prs_Salutation``,
``prs_Birthdate``, ``prs_Email``, phones, mailing address, ``prs_Title``) never reach the
database, the audit log or the report: the birth date becomes the age band at the
identification date (:func:`dashboard.domain.age_band`), and the person's identity
becomes ``person_hash`` = HMAC-SHA256 (key: ``settings.hash_key``, kept outside the
database) of the normalised names (accents, case, punctuation and word order do not
matter) and birth date. The case code is ``HT-`` + ten hex digits of a second HMAC of the
hash, so it reveals nothing either. Case workers' names and free-text details are not
read at all.

The same person in several rows, or already in the database (the same hash), is ONE
case: the earliest identification date (and its organisation and region) is kept, the
exploitation types and methods of control are merged, the most recent row gives the
status, owner and other single values (a blank or unknown value never erases a known
one), and every row's referrals are added.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date

import sqlalchemy as sa

from dashboard import schema as s
from dashboard.domain import N_, age_band, age_on
from dashboard.ingest import kinds as K
from dashboard.ingest.report import Note
from dashboard.ingest.validate import CHUNK, M_NOT_SAME_ORG, M_UNKNOWN_ORG, Reference, Validator, header_aliases

KIND = K.HTCDS
IDENTITY = ("prs_FirstName", "prs_SecondName", "prs_Birthdate")
CLOSED = {"closed", "closed_referred"}

# Every field of the v2.0 case sheet with its label (as in the template's row 2).
FIELDS = {
    "cas_CaseOwner": "Case Owner", "prs_Salutation": "Salutation", "prs_FirstName": "First Name",
    "prs_SecondName": "Second Name", "con_Consent": "Consent", "prs_Birthdate": "Birthdate", "prs_Gender": "Gender",
    "prs_Citizenship": "Citizenship", "prs_Title": "Title", "prs_Email": "Email", "prs_HomePhone": "Home Phone",
    "prs_MobilePhone": "Mobile Phone", "prs_MailingStreet": "Mailing Street", "prs_MailingCity": "Mailing City",
    "prs_MailingState": "Mailing State/Province", "prs_MailingPostalCode": "Mailing Zip/Postal Code",
    "prs_MailingCountry": "Mailing Country", "vic_TraffickingStatus": "Trafficking Status",
    "vic_TraffickinStatusDecisionMakingOrg": "Trafficking Status Decision Making Organization",
    "vic_MethodOfRecruitment": "Method of Recruitment", "vic_LocationOfRecruitment": "Location of Recruitment",
    "vic_MethodsOfControl": "Methods of Control", "vic_TypeOfExploitation": "Type of Exploitation",
    "vic_ForcedLabourIndustry": "Forced Labour Industry", "vic_TypeOfSexExploitation": "Type of Sex Exploitation",
    "vic_LocationOfExploitation": "Location of Exploitation", "cas_Status": "Status",
    "cas_ReferringOrganisation": "Referring Organisation", "cas_IncomingReferralDate": "Incoming Referral Date",
    "cas_ReferringPrimaryCaseWorker": "Referring Primary Case Worker",
    "cas_ReasonForIncomingReferral": "Reason for Incoming Referral",
    "cas_IncomingReferralDetails": "Incoming Referral Details", "cas_ReferredOrganisation": "Referred Organisation",
    "cas_ReferredPrimaryCaseWorker": "Referred Primary Case Worker",
    "cas_ReasonForOutgoingReferral": "Reason for Outgoing Referral",
    "cas_OutgoingReferralDate": "Outgoing Referral Date", "cas_OutgoingReferralDetails": "Outgoing Referral Details",
    "cas_ReasonForCaseClosure": "Reason for Case Closure",
}
SPELLINGS = {"vic_TraffickingStatusDecisionMakingOrg": "vic_TraffickinStatusDecisionMakingOrg"}
PERSONAL = frozenset(K.HTCDS_PERSONAL)
# Read by nobody: names of case workers, free text that may name people, and fields the model has no place for.
NOT_READ = frozenset(set(FIELDS) - {c.name for c in KIND.columns} - PERSONAL)

N_PERSONAL = N_("Names and birth date ({columns}) were read only to recognise the person (a keyed hash) and to "
                "compute the age band; they are not stored anywhere.")
N_PERSONAL_SKIPPED = N_("Other personal columns were skipped, never read: {columns}.")
N_NOT_READ = N_("Not read (free text, case workers' names, or fields the dashboard does not hold): {columns}.")
N_MERGED = N_("Rows describing a person already seen in another row: {n}. Each person is one case.")
M_NAME = N_("a first or second name (hashed to recognise the same person, never stored)")
M_NAME_COLUMN = N_("a prs_FirstName or prs_SecondName column (hashed to recognise the same person, never stored)")
M_BIRTH_ORDER = N_("a birth date before the incoming referral date")
M_NEEDS_DATE = N_("an outgoing referral date, since a referred organisation is given")
M_NEEDS_ORG = N_("a referred organisation, since an outgoing referral date is given")
M_OTHER_REGION = N_("a case in a region your account covers: this person's case is held in another region "
                    "(ask an administrator with national scope)")
M_ORG_REGION = N_("an organisation with a region (the case's region is the case owner's)")


# ---------------------------------------------------------------- identity
def _letters(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()


def identity(first: str | None, second: str | None, birth: date | None) -> str:
    """The normalised identity that is hashed: name words sorted, no accents or case."""
    words = sorted(w for w in re.split(r"[^0-9a-z]+", _letters(f"{first or ''} {second or ''}")) if w)
    return "v1|" + " ".join(words) + "|" + (birth.isoformat() if birth else "")


def person_hash(key: str, first: str | None, second: str | None, birth: date | None) -> str:
    return hmac.new(key.encode(), identity(first, second, birth).encode(), hashlib.sha256).hexdigest()


def case_code(key: str, p_hash: str) -> str:
    """Pseudonymous case code of a hashed person (no way back to the hash without the key)."""
    return "HT-" + hmac.new(key.encode(), ("case-code|" + p_hash).encode(), hashlib.sha256).hexdigest()[:10].upper()


def referral_code(case: str, from_id: int, to_id: int, sent: date) -> str:
    """Code of the referral of a case from one organisation to another on a day."""
    digest = hashlib.sha256(f"{from_id}|{to_id}|{sent.isoformat()}".encode()).hexdigest()[:8].upper()
    return f"{case}-R{digest}"


# ---------------------------------------------------------------- headers
def _aliases(translate_fr) -> tuple[dict[str, str], set[str]]:
    aliases = header_aliases(KIND, translate_fr)
    for wrong, right in SPELLINGS.items():
        aliases[K.norm(wrong)] = right
    ignore = set()
    for name in PERSONAL | NOT_READ:
        ignore.add(K.norm(name))
        if name not in aliases.values():
            ignore.add(K.norm(FIELDS[name]))
    return aliases, ignore


def _label_row(sheet, translate_fr=None) -> None:
    """Drop the labels row under the field names (English or French); use it to name
    unnamed columns."""
    if not sheet.rows:
        return
    number, cells = sheet.rows[0]
    if number != sheet.header_row + 1:
        return
    labels = {K.norm(label): name for name, label in FIELDS.items()}
    if translate_fr:
        labels.update({K.norm(translate_fr(label)): name for name, label in FIELDS.items()})
    filled = [(i, c) for i, c in enumerate(cells) if c is not None and str(c).strip()]
    hits = sum(1 for _i, c in filled if K.norm(c) in labels)
    if not filled or hits * 2 < len(filled):
        return
    headers = list(sheet.headers) + [""] * max(0, len(cells) - len(sheet.headers))
    for i, c in filled:
        if not headers[i] and K.norm(c) in labels:
            headers[i] = labels[K.norm(c)]
    sheet.headers = headers
    sheet.rows.pop(0)


# ---------------------------------------------------------------- validation and mapping
def validate(conn, sheet, today: date, viewer, translate_fr, progress=None, hash_key: str | None = None):
    from dashboard.settings import load_settings

    key = hash_key or load_settings().hash_key
    v = Validator(conn, KIND, sheet, today, viewer, translate_fr, personal=frozenset(IDENTITY) | PERSONAL)
    if not v.start():
        return v.out
    _label_row(sheet, translate_fr)
    aliases, ignore = _aliases(translate_fr)
    ok = v.map_headers(aliases, ignore)
    named = {K.norm(h) for h in sheet.headers if h}
    identity_cols = [n for n in IDENTITY if n in v.index_of]
    skipped = [n for n in sorted(PERSONAL - set(IDENTITY)) if K.norm(n) in named or K.norm(FIELDS[n]) in named]
    not_read = [n for n in sorted(NOT_READ) if K.norm(n) in named]
    if identity_cols:
        v.out.notes.append(Note(N_PERSONAL, {"columns": ", ".join(identity_cols)}))
    if skipped:
        v.out.notes.append(Note(N_PERSONAL_SKIPPED, {"columns": ", ".join(skipped)}))
    if not_read:
        v.out.notes.append(Note(N_NOT_READ, {"columns": ", ".join(not_read)}))
    if "prs_FirstName" not in v.index_of and "prs_SecondName" not in v.index_of:
        v.add(sheet.header_row, None, "prs_FirstName", M_NAME_COLUMN)
        ok = False
    if not ok or not v.has_rows():
        return v.out
    records = v.parse_rows(progress=progress)
    check(v, records, Reference(conn), key)
    return v.out


def check(v: Validator, records: list[dict], ref: Reference, key: str) -> None:
    orgs, org_rows = ref.get("organisation")
    for rec in records:
        bad = rec.get("_bad", set())
        if not rec.get("prs_FirstName") and not rec.get("prs_SecondName") and not bad & {"prs_FirstName",
                                                                                          "prs_SecondName"}:
            v.add(rec["_row"], "prs_FirstName" if "prs_FirstName" in v.index_of else "prs_SecondName", None, M_NAME)
        birth, incoming, outgoing = rec.get("prs_Birthdate"), rec.get("cas_IncomingReferralDate"), \
            rec.get("cas_OutgoingReferralDate")
        if birth and incoming and birth > incoming:
            v.add(rec["_row"], "prs_Birthdate", rec["_raw"].get("prs_Birthdate"), M_BIRTH_ORDER)
        v.order(rec, "cas_IncomingReferralDate", "cas_OutgoingReferralDate")
        if rec.get("cas_ReferredOrganisation") and not outgoing and "cas_OutgoingReferralDate" not in bad:
            v.add(rec["_row"], "cas_OutgoingReferralDate", None, M_NEEDS_DATE)
        if outgoing and not rec.get("cas_ReferredOrganisation") and "cas_ReferredOrganisation" not in bad:
            v.add(rec["_row"], "cas_ReferredOrganisation", None, M_NEEDS_ORG)
    for column in ("cas_CaseOwner", "cas_ReferringOrganisation", "cas_ReferredOrganisation"):
        v.resolve(records, column, orgs, M_UNKNOWN_ORG)
    for rec in records:
        owner = rec.get("cas_CaseOwner_id")
        if owner is None:
            continue
        for other in ("cas_ReferringOrganisation", "cas_ReferredOrganisation"):
            if rec.get(other + "_id") == owner:
                v.add(rec["_row"], other, rec["_raw"].get(other), M_NOT_SAME_ORG, other=v.header_of["cas_CaseOwner"])
        region = org_rows[owner]["region_id"]
        if region is None:
            v.add(rec["_row"], "cas_CaseOwner", rec["_raw"].get("cas_CaseOwner"), M_ORG_REGION)
        else:
            v.in_scope(rec, "cas_CaseOwner", ref.region_code(region))

    # identity: hash, then forget the names and the birth date
    for rec in records:
        rec["person_hash"] = person_hash(key, rec.get("prs_FirstName"), rec.get("prs_SecondName"),
                                         rec.get("prs_Birthdate"))
        rec["_birth"] = rec.get("prs_Birthdate")
        for name in IDENTITY:
            rec.pop(name, None)
            rec["_raw"].pop(name, None)
    if v.out.problem_total:
        v.out.records = []
        for rec in records:
            rec.pop("_birth", None)
        return
    v.out.extra = build(v.conn, records, ref, key)
    if v.scope is not None:  # a regional account may not change a case held in another region
        first_row = {}
        for rec in records:
            first_row.setdefault(rec["person_hash"], rec)
        for case in v.out.extra["cases"]:
            regions = {ref.region_code(case["region_id"]), ref.region_code(case["_old_region_id"] or case["region_id"])}
            if not regions <= set(v.scope):
                rec = first_row[case["person_hash"]]
                v.add(rec["_row"], "cas_CaseOwner", rec["_raw"].get("cas_CaseOwner"), M_OTHER_REGION)
        if v.out.problem_total:
            v.out.records, v.out.extra = [], {}
            for rec in records:
                rec.pop("_birth", None)
            return
    merged = len(records) - len(v.out.extra["cases"])
    if merged:
        v.out.notes.append(Note(N_MERGED, {"n": merged}))
    v.out.records = records
    for rec in records:
        rec.pop("_birth", None)


def _latest_key(rec: dict) -> tuple:
    last = max(d for d in (rec.get("cas_IncomingReferralDate"), rec.get("cas_OutgoingReferralDate")) if d)
    return last, rec["_row"]


def build(conn, records: list[dict], ref: Reference, key: str) -> dict:
    """One case per person (merged with the database's), its referrals and identification event."""
    iso2 = ref.country_iso2
    org_rows = ref.get("organisation")[1]
    people: dict[str, list[dict]] = {}
    for rec in records:
        people.setdefault(rec["person_hash"], []).append(rec)
    existing = _existing(conn, list(people))
    cases, referrals, events = [], {}, []
    for p_hash, rows in people.items():
        old = existing.get(p_hash)
        code = old["code"] if old else case_code(key, p_hash)
        first = min(rows, key=lambda r: (r["cas_IncomingReferralDate"], r["_row"]))
        ordered = sorted(rows, key=_latest_key)  # oldest first, most recent last
        latest = ordered[-1]

        def recent(column: str, blank=(None, "")):
            for r in reversed(ordered):
                if r.get(column) not in blank:
                    return r[column]
            return None

        identified_on = first["cas_IncomingReferralDate"]
        identified_by = first["cas_CaseOwner_id"]
        region_id = org_rows[identified_by]["region_id"]
        if old and old["identified_on"] <= identified_on:
            identified_on, identified_by, region_id = old["identified_on"], old["identified_by_org_id"], old["region_id"]
        birth = first["_birth"]
        band = age_band(age_on(birth, identified_on)) if birth else (old["age_band"] if old else "unknown")
        sex = recent("prs_Gender", (None, "", "unknown")) or (old["sex"] if old else None) or "unknown"
        nationality = recent("prs_Citizenship") or (old["nationality"] if old else None)
        status = recent("vic_TraffickingStatus") or (old["trafficking_status"] if old else None) or "possible"
        decided_by = recent("vic_TraffickinStatusDecisionMakingOrg") or (old["status_decided_by"] if old else None)
        case_status = latest.get("cas_Status") or "active"
        exploitation = set(old["exploitation"]) if old else set()
        control = set(old["control"]) if old else set()
        for r in rows:
            exploitation.update(r.get("vic_TypeOfExploitation") or ())
            control.update(r.get("vic_MethodsOfControl") or ())
        minor = None if band == "unknown" else band in ("0-8", "9-17")
        cases.append({
            "code": code, "person_hash": p_hash, "region_id": region_id, "sex": sex, "age_band": band,
            "is_minor": minor, "nationality": nationality,
            "is_foreign": None if not nationality or not iso2 else nationality != iso2,
            "trafficking_status": status, "status_decided_by": decided_by, "identified_on": identified_on,
            "identified_by_org_id": identified_by, "case_status": case_status,
            "owner_org_id": latest["cas_CaseOwner_id"],
            "current_stage": "closed" if case_status in CLOSED else (old["current_stage"] if old and
                                                                     old["current_stage"] != "closed"
                                                                     else "identification"),
            "_exploitation": tuple(sorted(exploitation)), "_control": tuple(sorted(control)),
            "_old_region_id": old["region_id"] if old else None,
        })
        events.append({"case": code, "stage": "identification", "occurred_on": identified_on,
                       "organisation_id": identified_by})
        for r in rows:
            owner = r["cas_CaseOwner_id"]
            if r.get("cas_ReferredOrganisation_id") and r.get("cas_OutgoingReferralDate"):
                _add_referral(referrals, code, owner, r["cas_ReferredOrganisation_id"], r["cas_OutgoingReferralDate"],
                              r.get("cas_ReasonForOutgoingReferral"), accepted=False)
        for r in rows:  # an agency's incoming referral is another's outgoing one: the receiver opened the case
            if r.get("cas_ReferringOrganisation_id"):
                _add_referral(referrals, code, r["cas_ReferringOrganisation_id"], r["cas_CaseOwner_id"],
                              r["cas_IncomingReferralDate"], r.get("cas_ReasonForIncomingReferral"), accepted=True)
    return {"cases": cases, "referrals": list(referrals.values()), "stage_events": events}


def _add_referral(referrals: dict, case: str, frm: int, to: int, sent: date, reason, accepted: bool) -> None:
    """One referral per hand-off (case, from, to, date), whichever agency's row names it;
    the receiver's row (it opened the case) makes it accepted on that day."""
    code = referral_code(case, frm, to, sent)
    ref = referrals.setdefault(code, {"code": code, "case": case, "from_org_id": frm, "to_org_id": to,
                                      "reason": reason, "service_type": None, "sent_on": sent,
                                      "acknowledged_on": None, "decided_on": None, "outcome": None,
                                      "decline_reason": None, "first_service_on": None})
    ref["reason"] = ref["reason"] or reason
    if accepted:
        ref.update(acknowledged_on=sent, decided_on=sent, outcome="accepted")


def _existing(conn, hashes: list[str]) -> dict[str, dict]:
    """Cases already in the database for these people, with their exploitation and control sets."""
    c = s.cases.c
    out: dict[str, dict] = {}
    for i in range(0, len(hashes), CHUNK):
        chunk = hashes[i:i + CHUNK]
        rows = conn.execute(sa.select(c.id, c.code, c.person_hash, c.region_id, c.sex, c.age_band, c.nationality,
                                      c.trafficking_status, c.status_decided_by, c.identified_on,
                                      c.identified_by_org_id, c.current_stage)
                            .where(c.person_hash.in_(chunk)).order_by(c.id)).mappings().all()
        by_id = {}
        for r in rows:
            if r["person_hash"] not in out:  # the oldest case of a person, should there be two
                out[r["person_hash"]] = dict(r, exploitation=[], control=[])
                by_id[r["id"]] = out[r["person_hash"]]
        if by_id:
            for table, column, slot in ((s.case_exploitation, "exploitation_type", "exploitation"),
                                        (s.case_control_methods, "method", "control")):
                for r in conn.execute(sa.select(table.c.case_id, table.c[column])
                                      .where(table.c.case_id.in_(list(by_id)))):
                    by_id[r[0]][slot].append(r[1])
    return out
