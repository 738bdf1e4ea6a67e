"""The data import page through AppTest: who gets it, templates, a file checked then
imported (AppTest can upload files), problems shown as a table, the CTDC export."""
from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa

from dashboard import schema as s
from dashboard.db import make_engine
from dashboard.navigation import pages_for
from dashboard.privacy import Viewer
from tests.apptest import app_for, open_page, texts

PAGE = "app_pages/data_import.py"
GOOD = ("code,region,sex,age_band,trafficking_status,identified_on,case_status,current_stage\n"
        "PG-1,ML-BKO,female,18-20,actual,2025-01-15,active,identification\n"
        "PG-2,ML-1,Masculine,9--17,possible,15/01/2025,active,identification\n").encode()
BAD = ("code,region,sex,age_band,trafficking_status,identified_on,case_status,current_stage\n"
       "PG-3,ML-99,x,18-20,actual,45321,active,identification\n").encode()


@pytest.fixture
def own_db_url(demo_db_url, tmp_path):
    """A copy of the demo database: the page writes to it."""
    src = make_engine(demo_db_url).url.database
    dst = tmp_path / "import.db"
    shutil.copy(src, dst)
    return f"sqlite:///{dst}"


def _count(url, code_prefix):
    eng = make_engine(url)
    with eng.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(s.cases).where(s.cases.c.code.like(code_prefix + "%"))
                         ).scalar()
    eng.dispose()
    return n


def test_only_admins_and_importing_committee_members_get_the_page():
    has = lambda v: "data-import" in [p.url_path for p in pages_for(v)]  # noqa: E731
    assert has(Viewer("a", "admin")) and has(Viewer("c", "committee", can_import=True))
    assert not has(Viewer("c", "committee")) and not has(Viewer("m", "minister", can_import=True))
    assert not has(Viewer("p", "partner", can_import=True))


@pytest.mark.parametrize("user, lang, title, template, ctdc", [
    ("admin", "en", "Data import", "Template (Excel, with lists)", True),
    ("admin", "fr", "Import de données", "Modèle (Excel, avec listes)", True),
    ("committee", "en", "Data import", "Template (Excel, with lists)", False),
    ("committee", "fr", "Import de données", "Modèle (Excel, avec listes)", False),
])
def test_page_renders_with_templates(demo_db_url, user, lang, title, template, ctdc):
    at = open_page(app_for(user, lang, demo_db_url), PAGE)
    assert not at.exception
    assert at.title[0].value == title
    labels = [b.label for b in at.get("download_button")]
    assert template in labels and len(labels) == (3 if ctdc else 2)
    assert len(at.selectbox) >= 1 and at.get("file_uploader")
    assert any("CTDC" in h.value for h in at.subheader) == ctdc
    # the expected columns are listed
    assert not at.table[0].value.empty


def test_page_with_an_empty_database(empty_db_url):
    at = open_page(app_for("admin", "fr", empty_db_url), PAGE)
    assert not at.exception
    assert "0 / 0" in texts(at)  # no victim to release in the CTDC export


def test_every_kind_shows_its_columns(demo_db_url):
    at = open_page(app_for("admin", "en", demo_db_url), PAGE)
    for value in ["htcds", "indicator_values", "shelter_capacity"]:
        box = next(b for b in at.selectbox if b.key == "import_kind")
        at = box.set_value(value).run()
        assert not at.exception
        columns = at.table[0].value.index.tolist()
        if value == "htcds":
            assert columns[:2] == ["cas_CaseOwner", "prs_FirstName"]
        elif value == "indicator_values":
            assert columns[0] == "Indicator code"
        else:
            assert columns[:2] == ["Shelter", "Valid from"]


def test_a_clean_file_is_checked_then_imported(own_db_url):
    at = open_page(app_for("committee", "en", own_db_url), PAGE)
    at.get("file_uploader")[0].upload("cases.csv", GOOD, "text/csv")
    at = at.run()
    assert not at.exception
    assert "The file is clean: 2 rows" in texts(at)
    assert _count(own_db_url, "PG-") == 0  # checking wrote nothing
    go = next(b for b in at.button if b.key == "import_go")
    at = go.click().run()
    assert not at.exception
    assert "Imported: 2 rows from cases.csv" in texts(at)
    assert _count(own_db_url, "PG-") == 2
    eng = make_engine(own_db_url)
    with eng.connect() as conn:
        entry = conn.execute(sa.select(s.audit_log.c.username, s.audit_log.c.target)
                             .where(s.audit_log.c.action == "import")).all()
    eng.dispose()
    assert entry == [("committee", "cases.csv")]


def test_a_bad_file_shows_the_problems_and_writes_nothing(own_db_url):
    at = open_page(app_for("admin", "fr", own_db_url), PAGE)
    at.get("file_uploader")[0].upload("bad.csv", BAD, "text/csv")
    at = at.run()
    assert not at.exception
    assert "Rien n'a été écrit : 3 problèmes à corriger dans bad.csv" in texts(at)
    problems = at.table[1].value
    assert problems.index.name == "Ligne" and list(problems.columns) == ["Colonne", "Valeur", "Attendu"]
    # in the order of the file's columns: region, sex, then identified_on
    assert problems.reset_index()[["Ligne", "Colonne", "Valeur"]].values.tolist() == [
        ["2", "region", "ML-99"], ["2", "sex", "x"], ["2", "identified_on", "45321"]]
    assert "Télécharger ce rapport (CSV)" in [b.label for b in at.get("download_button")]
    assert "ressemble au numéro de série Excel du 2024-01-30" in " ".join(problems["Attendu"])
    assert not [b for b in at.button if b.key == "import_go"]  # no import button
    assert _count(own_db_url, "PG-") == 0


def test_after_an_import_the_same_file_checks_as_unchanged(own_db_url):
    at = open_page(app_for("admin", "en", own_db_url), PAGE)
    at.get("file_uploader")[0].upload("cases.csv", GOOD, "text/csv")
    at = at.run()
    at = next(b for b in at.button if b.key == "import_go").click().run()
    assert "Imported: 2 rows" in texts(at)
    at.get("file_uploader")[0].clear()
    at = at.run()
    at.get("file_uploader")[0].upload("cases.csv", GOOD, "text/csv")
    at = at.run()
    assert not at.exception
    assert "importing it changes nothing" in texts(at) and _count(own_db_url, "PG-") == 2
