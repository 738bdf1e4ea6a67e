"""The data model holds no direct identifiers of the people assisted."""
import re

from dashboard import schema

# Words that would mean a column stores who a person is or how to reach them (EN and FR).
FORBIDDEN = re.compile(
    r"(first_?name|last_?name|surname|given_?name|full_?name|^name_|prenom|nom_|"
    r"birth|dob|naissance|address|adresse|street|rue|postcode|zip|phone|mobile|telephone|tel_|"
    r"e_?mail|courriel|passport|passeport|national_?id|id_?card|id_?number|document_?number|cni|nin)",
    re.IGNORECASE,
)
# Tables about organisations, places and dashboard users may have a name column.
NAMED_THINGS = {"regions", "organisations", "shelters", "users"}


def test_no_personal_identifier_columns():
    offenders = []
    for table in schema.metadata.tables.values():
        for column in table.columns:
            if column.name in ("name", "display_name") and table.name in NAMED_THINGS:
                continue
            if column.name == "name" or FORBIDDEN.search(column.name):
                offenders.append(f"{table.name}.{column.name}")
    assert offenders == []


def test_the_check_catches_identifiers():
    for bad in ["first_name", "prs_Birthdate", "date_naissance", "mobile_phone", "email", "passport_no", "adresse"]:
        assert FORBIDDEN.search(bad), bad


def test_cases_are_pseudonymous():
    cols = set(schema.cases.columns.keys())
    assert {"code", "person_hash", "age_band", "sex", "nationality", "region_id"} <= cols
