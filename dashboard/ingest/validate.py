"""Check a file against its kind before anything is written.

:func:`validate` turns a :class:`~dashboard.ingest.readers.Sheet` into parsed records
(one dict per row, references resolved to database ids) and a list of every problem
found, each with the row number the user sees, the column as headed in the file, the
value and what was expected. It reads the database (reference tables, and the cases or
referrals the file names, one SELECT per chunk of codes) but never writes.

Checks, in order: headers (missing required column, a column given twice), every cell
(type, code list, dates: format, Excel serials, not in the future), each row's own rules
(dates in order, fields that go together), duplicate natural keys within the file, then
the references (unknown case, organisation, region, shelter, activity or indicator; the
viewer's region scope) and the rules that need the database (capacity periods that
overlap, values of computed indicators, ...).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from dashboard import schema as s
from dashboard.domain import MINOR_BANDS, N_
from dashboard.ingest import kinds as K
from dashboard.ingest.readers import Sheet, is_blank
from dashboard.ingest.report import Note, Problem, shown_value
from dashboard.privacy import Viewer

CHUNK = 900  # codes per lookup SELECT (below SQLite's parameter limit)
MIN_DATE = date(1900, 1, 1)
EXCEL_EPOCH = date(1899, 12, 30)
MAX_PROBLEMS = 5000  # the report keeps the first ones, and the total

# messages (msgids)
M_REQUIRED_COLUMN = N_("this column is required")
M_REQUIRED = N_("a value (this column is required)")
M_DATE = N_("a date such as 2024-01-31 or 31/01/2024")
M_SERIAL = N_("a date: {value} looks like an Excel date serial for {date}; format the column as dates "
              "(or write {date})")
M_FUTURE = N_("a date not after today ({today})")
M_TOO_OLD = N_("a date after 1900")
M_INT = N_("a whole number")
M_NUMBER = N_("a number")
M_MIN = N_("a number of at least {minimum}")
M_MAX = N_("a number of at most {maximum}")
M_TOO_LONG = N_("at most {n} characters")
M_CHOICE = N_("one of: {codes}")
M_COUNTRY = N_("an ISO 3166 alpha-2 country code (such as ML, MU, FR) or an English country name")
M_DUPLICATE = N_("a unique {key}: row {first} has the same")
M_TWICE = N_("each column once: this column is also given as {other}")
M_UNKNOWN_REGION = N_("a known region code or name")
M_UNKNOWN_ORG = N_("a known organisation code or name (see the codes sheet of the template)")
M_UNKNOWN_SHELTER = N_("a known shelter code or name")
M_UNKNOWN_ACTIVITY = N_("a known plan activity code")
M_UNKNOWN_INDICATOR = N_("a known project indicator code")
M_UNKNOWN_CASE = N_("a case code already in the database (import the cases first)")
M_UNKNOWN_REFERRAL = N_("a referral code already in the database (import the referrals first)")
M_OUT_OF_SCOPE = N_("a region your account covers ({regions})")
M_NATIONAL_ONLY = N_("an account with national scope: this row is not tied to one of your regions")
M_ON_OR_AFTER = N_("a date on or after {other} ({date})")
M_AFTER = N_("a date after {other} ({date})")
M_NOT_SAME_ORG = N_("another organisation than {other}")
M_CLOSED_STATUS = N_("closed or closed_referred, since the current stage is closed")
M_CLOSED_STAGE = N_("closed, since the case status is {status}")
M_ONLY_JUDGEMENT = N_("empty: an outcome is only for the judgement stage")
M_OUTCOME_NEEDED = N_("accepted or declined, since the referral has a decision date")
M_DECISION_NEEDED = N_("a decision date, since the referral has an outcome")
M_ONLY_DECLINED = N_("empty: a decline reason is only for a declined referral")
M_ONLY_ACCEPTED = N_("empty: a first service is only for an accepted referral")
M_ONLY_EXITED = N_("empty: an exit destination needs an exit date")
M_OTHER_CASE = N_("a referral of the same case ({case})")
M_OVERLAP = N_("a period that does not overlap another one of this shelter (from {start})")
M_NO_ROWS = N_("at least one data row below the header")
M_ONE_COLUMN = N_("several columns: the header could not be split; save the file as CSV separated by commas, "
                  "semicolons or tabs, or as .xlsx")
N_IGNORED = N_("These columns are not used and were ignored: {columns}.")


class Bad(Exception):
    def __init__(self, message: str, **params):
        super().__init__(message)
        self.message, self.params = message, params


@dataclass
class Validated:
    kind: K.Kind
    records: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    present: set[str] = field(default_factory=set)  # column names found in the file
    rows: int = 0
    problem_total: int = 0
    extra: dict = field(default_factory=dict)  # what a kind's writer needs (looked-up rows)


# ---------------------------------------------------------------- cell parsers
def excel_serial(n: float) -> date:
    return EXCEL_EPOCH + timedelta(days=int(n))


_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?$")
_YMD = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$")
_SERIAL = re.compile(r"^\d{4,5}(?:\.0+)?$")


def parse_date(value, fmt: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise Bad(M_DATE)
    if isinstance(value, (int, float)):
        if fmt == "xlsx" and 1 <= value < 2958466:  # a date typed as a number in Excel
            return excel_serial(value)
        raise Bad(M_DATE)
    text = str(value).strip()
    m = _ISO.match(text) or _YMD.match(text)
    try:
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        m = _DMY.match(text)
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        raise Bad(M_DATE) from None
    if _SERIAL.match(text) and 20000 <= float(text) <= 80000:
        raise Bad(M_SERIAL, value=text, date=excel_serial(float(text)).isoformat())
    raise Bad(M_DATE)


def parse_number(value) -> float:
    if isinstance(value, bool):
        raise Bad(M_NUMBER)
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
    else:
        text = str(value).strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        try:
            number = float(Decimal(text))
        except (InvalidOperation, ValueError):
            raise Bad(M_NUMBER) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise Bad(M_NUMBER)
    return number


def _text(value) -> str:
    if type(value) is str:
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value).strip()


def make_parser(col: K.Column, fmt: str, today: date, translate_fr):
    """A function cell -> parsed value that raises :class:`Bad`."""
    if col.type == "date":
        def p(v):
            d = parse_date(v, fmt)
            if d < MIN_DATE:
                raise Bad(M_TOO_OLD)
            if col.past_only and d > today:
                raise Bad(M_FUTURE, today=today.isoformat())
            return d
        return p
    if col.type in ("int", "number"):
        def p(v):
            n = parse_number(v)
            if col.type == "int":
                if not float(n).is_integer():
                    raise Bad(M_INT)
                n = int(n)
            if col.minimum is not None and n < col.minimum:
                raise Bad(M_MIN, minimum=_num(col.minimum))
            if col.maximum is not None and n > col.maximum:
                raise Bad(M_MAX, maximum=_num(col.maximum))
            return n
        return p
    if col.type in ("choice", "multi"):
        index = K.choice_index(col, translate_fr)
        codes = ", ".join(col.choices)
        seen: dict[str, str] = {}  # the same few spellings come back on every row

        def one(v):
            code = seen.get(v)
            if code is None:
                code = index.get(K.norm(v))
                if code is None:
                    raise Bad(M_CHOICE, codes=codes)
                if len(seen) < 10_000:
                    seen[v] = code
            return code

        if col.type == "choice":
            return lambda v: one(_text(v))

        split = re.compile(r"[;|,\n]").split
        combos: dict[str, tuple] = {}

        def multi(v):
            text = _text(v)
            done = combos.get(text)
            if done is not None:
                return done
            out: list[str] = []
            for item in split(text):
                if item.strip():
                    code = one(item)
                    if code not in out:
                        out.append(code)
            if len(combos) < 10_000:
                combos[text] = tuple(out)
            return tuple(out)
        return multi
    if col.type == "country":
        names = {K.norm(n): c for c, n in K.countries().items()}
        alpha2 = K.countries()

        def country(v):
            text = _text(v)
            if text.upper() in alpha2:
                return text.upper()
            code = names.get(K.norm(text))
            if code is None:
                raise Bad(M_COUNTRY)
            return code
        return country

    def text(v):  # text, code, ref
        t = _text(v)
        if col.max_len and len(t) > col.max_len:
            raise Bad(M_TOO_LONG, n=col.max_len)
        return t
    return text


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


# ---------------------------------------------------------------- the validator
class Validator:
    """Collects problems for one file; ``add`` keeps the first MAX_PROBLEMS."""

    def __init__(self, conn, kind: K.Kind, sheet: Sheet, today: date, viewer: Viewer, translate_fr,
                 personal: frozenset = frozenset()):
        self.conn, self.kind, self.sheet, self.today = conn, kind, sheet, today
        self.viewer = viewer
        self.scope = None if viewer.regions is None else tuple(viewer.regions)
        self.translate_fr = translate_fr
        self.personal = personal
        self.out = Validated(kind)
        self.header_of: dict[str, str] = {}  # column name -> header as written
        self.index_of: dict[str, int] = {}

    def add(self, row, column: str | None, value, message: str, /, **params) -> None:
        self.out.problem_total += 1
        if len(self.out.problems) < MAX_PROBLEMS:
            header = self.header_of.get(column, column) if column else None
            personal = column in self.personal
            self.out.problems.append(Problem(row, header, shown_value(value, personal), message, params))

    # -- the file as a whole
    def start(self) -> bool:
        """Take over the reader's notes and problems; False when there is nothing to read."""
        sheet = self.sheet
        self.out.notes.extend(sheet.notes)
        for p in sheet.problems:
            self.out.problems.append(p)
            self.out.problem_total += 1
        if sheet.fmt == "xls" or (not sheet.headers and sheet.problems):
            return False
        if not sheet.headers:
            self.add(None, None, None, M_NO_ROWS)
            return False
        return True

    def has_rows(self) -> bool:
        """Drop rows with nothing under a named column (IOM's template numbers every row in
        its unnamed column A); False when no data row is left."""
        named = [i for i, h in enumerate(self.sheet.headers) if h]
        self.sheet.rows = [(n, cells) for n, cells in self.sheet.rows
                           if any(i < len(cells) and not is_blank(cells[i]) for i in named)]
        if not self.sheet.rows:
            self.add(self.sheet.header_row + 1, None, None, M_NO_ROWS)
            return False
        return True

    # -- headers
    def map_headers(self, header_aliases: dict[str, str], ignore: set[str] = frozenset()) -> bool:
        kind, sheet = self.kind, self.sheet
        ignored = []
        for i, header in enumerate(sheet.headers):
            if not header:
                continue
            name = header_aliases.get(K.norm(header))
            if name is None:
                if K.norm(header) not in ignore:
                    ignored.append(header)
                continue
            if name in self.index_of:
                self.add(sheet.header_row, None, header, M_TWICE, other=self.header_of[name])
                continue
            self.index_of[name] = i
            self.header_of[name] = header
        self.out.present = set(self.index_of)
        if ignored:
            self.out.notes.append(Note(N_IGNORED, {"columns": ", ".join(ignored)}))
        ok = True
        named = [h for h in sheet.headers if h]
        if len(named) == 1 and len(kind.columns) > 1 and sheet.fmt == "csv":
            self.add(sheet.header_row, None, named[0][:80], M_ONE_COLUMN)
            return False
        for col in kind.columns:
            if col.required and col.name not in self.index_of:
                self.add(sheet.header_row, None, col.label, M_REQUIRED_COLUMN)
                ok = False
        return ok

    # -- cells
    def parse_rows(self, columns=None, progress=None) -> list[dict]:
        columns = [c for c in (columns or self.kind.columns) if c.name in self.index_of]
        parsers = [(c, self.index_of[c.name], make_parser(c, self.sheet.fmt, self.today, self.translate_fr))
                   for c in columns]
        records = []
        total = max(len(self.sheet.rows), 1)
        step = max(total // 20, 1)
        for n, (row, cells) in enumerate(self.sheet.rows):
            rec: dict = {"_row": row}
            raw: dict = {}
            width = len(cells)
            for col, i, parse in parsers:
                v = cells[i] if i < width else None
                if v is None or v == "" or (type(v) is str and v.isspace()):
                    rec[col.name] = col.default if col.type != "multi" else ()
                    if col.required:
                        self.add(row, col.name, None, M_REQUIRED)
                    continue
                raw[col.name] = v
                try:
                    rec[col.name] = parse(v)
                except Bad as exc:
                    rec[col.name] = None
                    rec.setdefault("_bad", set()).add(col.name)
                    self.add(row, col.name, v, exc.message, **exc.params)
            rec["_raw"] = raw
            records.append(rec)
            if progress and n % step == 0:
                progress(n / total)
        self.out.rows = len(records)
        return records

    def duplicates(self, records: list[dict], key: tuple[str, ...], key_label: str, column: str) -> None:
        first: dict[tuple, int] = {}
        for rec in records:
            k = tuple(rec.get(c) for c in key)
            if any(x is None for x in k):
                continue
            if k in first:
                self.add(rec["_row"], column, rec["_raw"].get(column), M_DUPLICATE, key=key_label, first=first[k])
            else:
                first[k] = rec["_row"]

    def order(self, rec, earlier: str, later: str, strict: bool = False) -> None:
        a, b = rec.get(earlier), rec.get(later)
        if a is not None and b is not None and (b < a or (strict and b == a)):
            self.add(rec["_row"], later, rec["_raw"].get(later), M_AFTER if strict else M_ON_OR_AFTER,
                     other=self.header_of.get(earlier, earlier), date=a.isoformat())

    # -- references
    def resolve(self, records: list[dict], column: str, lookup: dict, message: str) -> None:
        if column not in self.index_of:
            return
        for rec in records:
            v = rec.get(column)
            if v is None:
                rec[column + "_id"] = None
                continue
            key = v.upper() if v.upper() in lookup else K.norm(v)
            ident = lookup.get(key)
            if ident is None:
                self.add(rec["_row"], column, rec["_raw"].get(column), message)
            rec[column + "_id"] = ident

    def in_scope(self, rec, column: str, region_code: str | None) -> None:
        if self.scope is None:
            return
        if region_code is None:
            self.add(rec["_row"], column, rec["_raw"].get(column), M_NATIONAL_ONLY)
        elif region_code not in self.scope:
            self.add(rec["_row"], column, rec["_raw"].get(column), M_OUT_OF_SCOPE, regions=", ".join(self.scope))


def header_aliases(kind: K.Kind, translate_fr) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for col in kind.columns:
        for spelling in (col.label, translate_fr(col.label) if translate_fr else None, col.name):
            if spelling:
                aliases[K.norm(spelling)] = col.name
    return aliases


# ---------------------------------------------------------------- reference lookups
def _named_lookup(conn, table: sa.Table, with_name: bool = True) -> tuple[dict, dict]:
    """(spelling -> id, id -> row) for a small reference table: code (upper case) and loose name."""
    rows = conn.execute(sa.select(table)).mappings().all()
    lookup: dict = {}
    by_id: dict = {}
    for r in rows:
        by_id[r["id"]] = dict(r)
        if with_name and r.get("name"):
            lookup.setdefault(K.norm(r["name"]), r["id"])
    for r in rows:
        lookup[r["code"].upper()] = r["id"]
        lookup.setdefault(K.norm(r["code"]), r["id"])
    return lookup, by_id


class Reference:
    """The small reference tables, read once per import."""

    def __init__(self, conn):
        self.conn = conn
        self._cache: dict = {}

    def get(self, name: str):
        if name not in self._cache:
            table = {"region": s.regions, "organisation": s.organisations, "shelter": s.shelters,
                     "activity": s.plan_activities, "indicator": s.indicators}[name]
            self._cache[name] = _named_lookup(self.conn, table, with_name=name in ("region", "organisation", "shelter"))
        return self._cache[name]

    def region_code(self, region_id) -> str | None:
        if region_id is None:
            return None
        return self.get("region")[1][region_id]["code"]

    @property
    def country_iso2(self) -> str | None:
        return self.conn.execute(sa.select(s.meta.c.value).where(s.meta.c.key == "country_iso2")).scalar()


def rows_by_code(conn, table: sa.Table, codes, columns) -> dict[str, dict]:
    """Rows of a large table (cases, referrals) whose code is in ``codes``: one SELECT per chunk."""
    codes = sorted({c for c in codes if c})
    out: dict[str, dict] = {}
    cols = [table.c.code, *[table.c[c] for c in columns]]
    for i in range(0, len(codes), CHUNK):
        chunk = codes[i:i + CHUNK]
        for r in conn.execute(sa.select(*cols).where(table.c.code.in_(chunk))).mappings():
            out[r["code"]] = dict(r)
    return out


# ---------------------------------------------------------------- one function per kind
def validate(conn, kind: K.Kind, sheet: Sheet, today: date, viewer: Viewer, translate_fr=None, progress=None,
             hash_key: str | None = None) -> Validated:
    """Every problem of the file; records are only usable when there is none. ``viewer``:
    who imports (their region scope applies; rules of dashboard.updates use their role)."""
    if kind.name == "htcds":
        from dashboard.ingest import htcds

        return htcds.validate(conn, sheet, today, viewer, translate_fr, progress, hash_key=hash_key)
    v = Validator(conn, kind, sheet, today, viewer, translate_fr)
    if not v.start() or not v.map_headers(header_aliases(kind, translate_fr)) or not v.has_rows():
        return v.out
    records = v.parse_rows(progress=progress)
    ref = Reference(conn)
    CHECKS[kind.name](v, records, ref)
    v.out.records = records
    return v.out


def _check_cases(v: Validator, records, ref: Reference) -> None:
    v.duplicates(records, ("code",), K.CASES.key_label, "code")
    v.resolve(records, "region", ref.get("region")[0], M_UNKNOWN_REGION)
    v.resolve(records, "identified_by", ref.get("organisation")[0], M_UNKNOWN_ORG)
    v.resolve(records, "owner", ref.get("organisation")[0], M_UNKNOWN_ORG)
    closed = {"closed", "closed_referred"}
    for rec in records:
        stage, status = rec.get("current_stage"), rec.get("case_status")
        if stage and status:
            if stage == "closed" and status not in closed:
                v.add(rec["_row"], "case_status", rec["_raw"].get("case_status"), M_CLOSED_STATUS)
            elif status in closed and stage != "closed":
                v.add(rec["_row"], "current_stage", rec["_raw"].get("current_stage"), M_CLOSED_STAGE, status=status)
        if rec.get("region_id") is not None:
            v.in_scope(rec, "region", ref.region_code(rec["region_id"]))
    v.out.extra["iso2"] = ref.country_iso2


def derive_case(rec: dict, iso2: str | None) -> dict:
    """is_minor from the age band, is_foreign from the nationality."""
    band = rec.get("age_band")
    nat = rec.get("nationality")
    return {
        "is_minor": None if band in (None, "unknown") else band in MINOR_BANDS,
        "is_foreign": None if not nat or not iso2 else nat != iso2,
    }


def _resolve_cases(v: Validator, records, ref: Reference, column: str = "case") -> None:
    found = rows_by_code(v.conn, s.cases, (r.get(column) for r in records), ("id", "region_id"))
    for rec in records:
        code = rec.get(column)
        if code is None:
            rec[column + "_id"] = None
            continue
        row = found.get(code)
        if row is None:
            v.add(rec["_row"], column, rec["_raw"].get(column), M_UNKNOWN_CASE)
            rec[column + "_id"] = None
            continue
        rec[column + "_id"] = row["id"]
        v.in_scope(rec, column, ref.region_code(row["region_id"]))


def _check_stage_events(v: Validator, records, ref: Reference) -> None:
    v.duplicates(records, K.STAGE_EVENTS.key, K.STAGE_EVENTS.key_label, "occurred_on")
    for rec in records:
        if rec.get("outcome") and rec.get("stage") and rec["stage"] != "judgement":
            v.add(rec["_row"], "outcome", rec["_raw"].get("outcome"), M_ONLY_JUDGEMENT)
    _resolve_cases(v, records, ref)
    v.resolve(records, "organisation", ref.get("organisation")[0], M_UNKNOWN_ORG)


def check_referral_row(v: Validator, rec: dict) -> None:
    """The rules of one referral's own fields: dates in order, fields that go together."""
    for earlier, later in (("sent_on", "acknowledged_on"), ("sent_on", "decided_on"), ("acknowledged_on", "decided_on"),
                           ("sent_on", "first_service_on"), ("decided_on", "first_service_on")):
        v.order(rec, earlier, later)
    bad = rec.get("_bad", set())
    if rec.get("decided_on") and not rec.get("outcome") and "outcome" not in bad:
        v.add(rec["_row"], "outcome", rec["_raw"].get("outcome"), M_OUTCOME_NEEDED)
    if rec.get("outcome") and not rec.get("decided_on") and "decided_on" not in bad:
        v.add(rec["_row"], "decided_on", rec["_raw"].get("decided_on"), M_DECISION_NEEDED)
    if rec.get("decline_reason") and rec.get("outcome") != "declined":
        v.add(rec["_row"], "decline_reason", rec["_raw"].get("decline_reason"), M_ONLY_DECLINED)
    if rec.get("first_service_on") and rec.get("outcome") and rec.get("outcome") != "accepted":
        v.add(rec["_row"], "first_service_on", rec["_raw"].get("first_service_on"), M_ONLY_ACCEPTED)


def _check_referrals(v: Validator, records, ref: Reference) -> None:
    v.duplicates(records, ("code",), K.REFERRALS.key_label, "code")
    for rec in records:
        check_referral_row(v, rec)
    _resolve_cases(v, records, ref)
    orgs = ref.get("organisation")[0]
    v.resolve(records, "from_org", orgs, M_UNKNOWN_ORG)
    v.resolve(records, "to_org", orgs, M_UNKNOWN_ORG)
    for rec in records:
        if rec.get("from_org_id") is not None and rec.get("from_org_id") == rec.get("to_org_id"):
            v.add(rec["_row"], "to_org", rec["_raw"].get("to_org"), M_NOT_SAME_ORG,
                  other=v.header_of.get("from_org", "from_org"))


def _check_services(v: Validator, records, ref: Reference) -> None:
    v.duplicates(records, ("code",), K.SERVICES.key_label, "code")
    for rec in records:
        v.order(rec, "started_on", "ended_on")
    _resolve_cases(v, records, ref)
    v.resolve(records, "provider", ref.get("organisation")[0], M_UNKNOWN_ORG)
    if "referral" in v.index_of:
        found = rows_by_code(v.conn, s.referrals, (r.get("referral") for r in records), ("id", "case_id"))
        for rec in records:
            code = rec.get("referral")
            rec["referral_id"] = None
            if not code:
                continue
            row = found.get(code)
            if row is None:
                v.add(rec["_row"], "referral", rec["_raw"].get("referral"), M_UNKNOWN_REFERRAL)
            elif rec.get("case_id") is not None and row["case_id"] != rec["case_id"]:
                v.add(rec["_row"], "referral", rec["_raw"].get("referral"), M_OTHER_CASE, case=rec["case"])
            else:
                rec["referral_id"] = row["id"]


def _check_shelter_stays(v: Validator, records, ref: Reference) -> None:
    v.duplicates(records, K.SHELTER_STAYS.key, K.SHELTER_STAYS.key_label, "entered_on")
    for rec in records:
        v.order(rec, "entered_on", "exited_on")
        if rec.get("exit_destination") and not rec.get("exited_on") and "exited_on" not in rec.get("_bad", ()):
            v.add(rec["_row"], "exit_destination", rec["_raw"].get("exit_destination"), M_ONLY_EXITED)
    _resolve_cases(v, records, ref)
    v.resolve(records, "shelter", ref.get("shelter")[0], M_UNKNOWN_SHELTER)


def _check_shelter_capacity(v: Validator, records, ref: Reference) -> None:
    v.duplicates(records, K.SHELTER_CAPACITY.key, K.SHELTER_CAPACITY.key_label, "valid_from")
    for rec in records:
        v.order(rec, "valid_from", "valid_to", strict=True)
    lookup, shelters = ref.get("shelter")
    v.resolve(records, "shelter", lookup, M_UNKNOWN_SHELTER)
    for rec in records:
        if rec.get("shelter_id") is not None:
            v.in_scope(rec, "shelter", ref.region_code(shelters[rec["shelter_id"]]["region_id"]))
    # periods of one shelter may not overlap: the file's rows replace the database's of the same start
    ids = sorted({r["shelter_id"] for r in records if r.get("shelter_id") is not None})
    if not ids:
        return
    c = s.shelter_capacity.c
    periods: dict[int, dict] = {}  # shelter -> start -> (end, record from the file or None)
    for r in v.conn.execute(sa.select(c.shelter_id, c.valid_from, c.valid_to).where(c.shelter_id.in_(ids))):
        periods.setdefault(r.shelter_id, {})[r.valid_from] = (r.valid_to, None)
    for rec in records:
        if rec.get("shelter_id") is None or rec.get("valid_from") is None or "valid_to" in rec.get("_bad", ()):
            continue
        mine = periods.setdefault(rec["shelter_id"], {})
        end_ = rec.get("valid_to") if "valid_to" in v.index_of else mine.get(rec["valid_from"], (None, None))[0]
        mine[rec["valid_from"]] = (end_, rec)
    for by_start in periods.values():
        ordered = sorted(by_start.items())
        for (start_a, (end_a, rec_a)), (start_b, (_end_b, rec_b)) in zip(ordered, ordered[1:]):
            if end_a is not None and end_a <= start_b:
                continue
            culprit, other = (rec_b, start_a) if rec_b is not None else (rec_a, start_b)
            if culprit is not None:
                v.add(culprit["_row"], "valid_from", culprit["_raw"].get("valid_from"), M_OVERLAP,
                      start=other.isoformat())


# Plan activity updates and indicator values follow the rules of the update forms
# (dashboard.updates): the same function checks a form and a file row.
BEFORE_LAST = "The date {date} is before the last recorded change ({last})."  # msgid of dashboard.updates


def _param(x):
    return x.isoformat() if hasattr(x, "isoformat") else _num(x) if isinstance(x, float) else x


def _as_problem(v: Validator, rec: dict, column: str, problem) -> None:
    column = column if column in v.index_of else v.kind.key[0]
    v.add(rec["_row"], column, rec["_raw"].get(column), problem.msgid,
          **{k: _param(x) for k, x in problem.params.items()})


def _check_activity_updates(v: Validator, records, ref: Reference) -> None:
    from dashboard import updates

    v.duplicates(records, K.ACTIVITY_UPDATES.key, K.ACTIVITY_UPDATES.key_label, "status")
    lookup, activities = ref.get("activity")
    v.resolve(records, "activity", lookup, M_UNKNOWN_ACTIVITY)
    h = s.activity_status_history.c
    ids = sorted({r["activity_id"] for r in records if r.get("activity_id")})
    recorded = set()
    for i in range(0, len(ids), CHUNK):
        recorded |= {tuple(r) for r in v.conn.execute(sa.select(h.activity_id, h.changed_on, h.status)
                                                       .where(h.activity_id.in_(ids[i:i + CHUNK])))}
    for rec in records:
        if rec.get("activity_id") is None or rec.get("_bad"):
            continue
        code = activities[rec["activity_id"]]["code"]
        already = (rec["activity_id"], rec["changed_on"], rec["status"]) in recorded
        for problem in updates.validate_status_change(v.conn, v.viewer, code, rec["status"], rec["changed_on"],
                                                      rec.get("evidence_note"), rec.get("budget_spent"), v.today):
            if already and problem.msgid == BEFORE_LAST:
                continue  # this entry is already in the history: importing it again changes nothing
            _as_problem(v, rec, problem.field, problem)


def _check_indicator_values(v: Validator, records, ref: Reference) -> None:
    """Rows are grouped by indicator and period, as the form takes a total and the values by
    sex together; the rows to write are those dashboard.updates derives (a total from the
    female and male values of a count, for instance)."""
    from dashboard import updates

    v.duplicates(records, K.INDICATOR_VALUES.key, K.INDICATOR_VALUES.key_label, "period_end")
    lookup, indicators = ref.get("indicator")
    v.resolve(records, "indicator", lookup, M_UNKNOWN_INDICATOR)
    groups: dict[tuple, dict[str, dict]] = {}
    for rec in records:
        if rec.get("indicator_id") is None or rec.get("_bad"):
            continue
        v.in_scope(rec, "indicator", None)
        key = (rec["indicator_id"], rec["period_start"], rec["period_end"])
        groups.setdefault(key, {})[rec.get("sex") or "all"] = rec
    writes = []
    for (ind_id, start, end), by_sex in groups.items():
        code = indicators[ind_id]["code"]
        total, female, male = by_sex.get("all"), by_sex.get("female"), by_sex.get("male")
        anchor = total or female or male
        problems, rows = updates.validate_indicator_value(
            v.conn, v.viewer, code, start, end, total and total["value"], female and female["value"],
            male and male["value"], anchor.get("note"), v.today)
        for problem in problems:
            rec = {"female": female, "male": male}.get(problem.field) or anchor
            column = {"female": "value", "male": "value", "period": "period_start"}.get(problem.field, problem.field)
            _as_problem(v, rec, column, problem)
        for sex, value in rows.items():
            rec = by_sex.get(sex) or anchor
            writes.append({"indicator_id": ind_id, "period_start": start, "period_end": end, "sex": sex,
                           "value": value, "note": rec.get("note")})
    v.out.extra["values"] = writes


CHECKS = {
    "cases": _check_cases,
    "stage_events": _check_stage_events,
    "referrals": _check_referrals,
    "services": _check_services,
    "shelter_stays": _check_shelter_stays,
    "shelter_capacity": _check_shelter_capacity,
    "activity_updates": _check_activity_updates,
    "indicator_values": _check_indicator_values,
}
