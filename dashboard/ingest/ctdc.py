"""De-identified case export in the public layout of IOM's Counter-Trafficking Data
Collaborative (CTDC), k-anonymised as CTDC does (k = 11 by default).

One record per case (victims only: possible and actual, not "not a victim"), with the
CTDC fields the dashboard holds: year of registration (identification), gender, broad age
band, citizenship (ISO alpha-2), and 0/1 flags for the means of control and the types of
exploitation (empty when the case records none at all). Fields the model has no place
for (country of exploitation, months trafficked, labour and sex-exploitation sectors,
relation to the recruiter) are left empty: CTDC's "unknown".

k-anonymity: every released record is identical, over ALL the released fields, to at
least k − 1 others. A case whose combination is rarer is generalised step by step, as
CTDC suppresses values: first its means-of-control flags are blanked, then its
exploitation flags, then its citizenship; it is released at the first step where its
(blanked) combination is shared by at least k such cases, and withheld otherwise. Year,
gender and age band are never blanked. The counting happens in SQL (window counts per
level, then one GROUP BY); the export writes each combination as many times as it has
cases.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import sqlalchemy as sa

from dashboard import audit
from dashboard import schema as s

K_DEFAULT = 11

FIELDS = (
    "yearOfRegistration", "gender", "ageBroad", "citizenship", "CountryOfExploitation", "traffickMonths",
    "meansDebtBondageEarnings", "meansThreats", "meansAbusePsyPhySex", "meansFalsePromises", "meansDrugsAlcohol",
    "meansDenyBasicNeeds", "meansExcessiveWorkHours", "meansWithholdDocs", "isForcedLabour", "isSexualExploit",
    "isOtherExploit", "typeOfLabourAgriculture", "typeOfLabourConstruction", "typeOfLabourDomesticWork",
    "typeOfLabourHospitality", "typeOfSexProstitution", "typeOfSexPornography", "recruiterRelationIntimatePartner",
    "recruiterRelationFriend", "recruiterRelationFamily", "recruiterRelationOther",
)
GENDER = {"female": "Woman", "male": "Man", "trans_nonconforming": "Trans/Transgender/NonConforming"}
AGE = {"0-8": "0--8", "9-17": "9--17", "18-20": "18--20", "21-23": "21--23", "24-26": "24--26", "27-29": "27--29",
       "30-38": "30--38", "39-47": "39--47", "48+": "48+"}
MEANS = {
    "meansDebtBondageEarnings": ("debt_bondage", "takes_earnings", "restricts_financial_access"),
    "meansThreats": ("physical_threats", "threats_law_enforcement", "threatens_family"),
    "meansAbusePsyPhySex": ("physical_abuse", "sexual_abuse", "psychological_abuse"),
    "meansFalsePromises": ("false_promises",),
    "meansDrugsAlcohol": ("psychoactive_substance",),
    "meansDenyBasicNeeds": ("withholds_necessities", "restricts_medical_care"),
    "meansExcessiveWorkHours": ("excessive_working_hours",),
    "meansWithholdDocs": ("withholds_documents",),
}
EXPLOITS = {
    "isForcedLabour": ("forced_labour",),
    "isSexualExploit": ("sexual_exploitation",),
    "isOtherExploit": ("child_labour", "forced_marriage", "servitude", "forced_military", "organ_removal",
                       "forced_begging", "forced_adoption", "surrogacy", "other"),
}
NOT_HELD = ("CountryOfExploitation", "traffickMonths", "typeOfLabourAgriculture", "typeOfLabourConstruction",
            "typeOfLabourDomesticWork", "typeOfLabourHospitality", "typeOfSexProstitution", "typeOfSexPornography",
            "recruiterRelationIntimatePartner", "recruiterRelationFriend", "recruiterRelationFamily",
            "recruiterRelationOther")


@dataclass
class Export:
    rows: list[dict]  # released records, CTDC field -> value (None = unknown)
    cases: int  # victims considered
    released: int
    withheld: int
    k: int
    generalised: int = 0  # released with some fields blanked to reach k


def _flag(table: sa.Table, column: str, codes: tuple[str, ...]):
    c = s.cases.c
    any_ = sa.exists().where(table.c.case_id == c.id)
    hit = sa.exists().where(table.c.case_id == c.id, table.c[column].in_(codes))
    return sa.case((~any_, sa.null()), (hit, 1), else_=0)


def per_case_select() -> sa.Select:
    c = s.cases.c
    cols = [
        sa.cast(sa.extract("year", c.identified_on), sa.Integer).label("yearOfRegistration"),
        sa.case(*[(c.sex == k, v) for k, v in GENDER.items()], else_=sa.null()).label("gender"),
        sa.case(*[(c.age_band == k, v) for k, v in AGE.items()], else_=sa.null()).label("ageBroad"),
        c.nationality.label("citizenship"),
    ]
    cols += [_flag(s.case_control_methods, "method", codes).label(name) for name, codes in MEANS.items()]
    cols += [_flag(s.case_exploitation, "exploitation_type", codes).label(name) for name, codes in EXPLOITS.items()]
    return sa.select(*cols).where(c.trafficking_status.in_(("possible", "actual")))


# Generalisation levels: the fields still released at each level. A case whose
# combination is rarer than k at one level is tried at the next, with more fields
# blanked ("unknown"); year, gender and age band are always released or the case is withheld.
KEPT = ("yearOfRegistration", "gender", "ageBroad")
LEVELS = (
    (*KEPT, "citizenship", *EXPLOITS, *MEANS),
    (*KEPT, "citizenship", *EXPLOITS),
    (*KEPT, "citizenship"),
    KEPT,
)


def combinations(conn, k: int = K_DEFAULT) -> tuple[list[dict], int]:
    """(released combinations with their count ``n`` and the generalisation ``level``,
    number of victims considered). Every combination has n >= k."""
    cur = per_case_select().add_columns(sa.cast(sa.null(), sa.Integer).label("lvl")).subquery("l0")
    names = [c for c in cur.c.keys() if c != "lvl"]
    for j, kept in enumerate(LEVELS):
        done = cur.c.lvl.is_not(None)
        n = sa.func.count().over(partition_by=[done, *[cur.c[f] for f in kept]])
        lvl = sa.case((done, cur.c.lvl), (n >= k, j), else_=sa.null())
        cur = sa.select(*[cur.c[f] for f in names], lvl.label("lvl")).subquery(f"l{j + 1}")
    out = []
    for name in names:
        first_level_without = next((j for j, kept in enumerate(LEVELS) if name not in kept), None)
        col = cur.c[name]
        if first_level_without is not None:
            col = sa.case((cur.c.lvl < first_level_without, col), else_=sa.null())
        out.append(col.label(name))
    level = sa.func.max(cur.c.lvl).label("level")
    stmt = (sa.select(*out, sa.func.count().label("n"), level).where(cur.c.lvl.is_not(None))
            .group_by(*out).order_by(*out))
    released = [dict(r) for r in conn.execute(stmt).mappings()]
    total = conn.execute(sa.select(sa.func.count()).select_from(per_case_select().subquery())).scalar() or 0
    return released, total


def export(conn, k: int = K_DEFAULT) -> Export:
    groups, total = combinations(conn, k)
    rows = []
    generalised = 0
    for g in groups:
        record = {f: None for f in FIELDS}
        record.update({key: g[key] for key in g if key not in ("n", "level")})
        rows.extend(dict(record) for _ in range(g["n"]))
    generalised = sum(g["n"] for g in groups if g["level"])
    return Export(rows=rows, cases=total, released=len(rows), withheld=total - len(rows), k=k,
                  generalised=generalised)


def to_csv(result: Export) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in result.rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return buf.getvalue().encode("utf-8")


def export_csv(engine, actor: str | None, k: int = K_DEFAULT) -> tuple[bytes, Export]:
    """The CSV file and its counts; the export is written to the audit log."""
    with engine.begin() as conn:
        result = export(conn, k)
        audit.record(conn, actor, "export", target="ctdc",
                     detail={"k": k, "cases": result.cases, "released": result.released, "withheld": result.withheld,
                             "generalised": result.generalised})
    return to_csv(result), result
