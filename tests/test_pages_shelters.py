"""The shelters page, run for real (AppTest) for every role, in both languages, on the demo
database and on a database with shelters but no stay at all."""
import shutil
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from apptest import app_for, open_page, texts

from dashboard import schema
from dashboard.db import make_engine

PAGE = "app_pages/shelters.py"
USERS = ("admin", "committee", "minister", "partner", "focal")
TITLE = {"en": "Shelters", "fr": "Centres d'hébergement"}
TONIGHT = {"en": "Tonight", "fr": "Cette nuit"}
UTILISATION = {"en": "Bed utilisation over the period", "fr": "Taux d'utilisation des lits sur la période"}
CASES = {"en": "Cases to review", "fr": "Cas à examiner"}
CODE = {"en": "Case code", "fr": "Code du dossier"}


def shelters_page(user, lang, url):
    at = open_page(app_for(user, lang, url), PAGE)
    assert not at.exception, at.exception
    assert at.title[0].value == TITLE[lang]
    headers = [h.value for h in at.header]
    assert TONIGHT[lang] in headers and UTILISATION[lang] in headers
    return at


def columns(at):
    return [list(df.value.columns) for df in at.dataframe]


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("user", USERS)
def test_with_data(user, lang, demo_db_url):
    at = shelters_page(user, lang, demo_db_url)
    assert len(at.metric) >= 7  # 4 tonight + 3 utilisation (+ declined)
    assert len(at.get("vega_lite_chart")) >= 3
    assert at.dataframe, "the occupancy table"
    case_tables = [c for c in columns(at) if CODE[lang] in c]
    if user in ("minister", "partner"):
        assert not case_tables and CASES[lang] not in [s.value for s in at.subheader]
        # the occupancy table of an aggregate viewer never shows a count between 1 and k-1
        occupancy = at.dataframe[0].value
        for col in occupancy.columns[2:-1]:
            for cell in occupancy[col]:
                people = cell.split(" / ")[0]
                assert people in ("< 5", "*", "0") or int(people.replace("\u202f", "").replace(",", "")) >= 5, cell
    if lang == "fr":
        assert "Shelters of the selected regions" not in texts(at)


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("user", USERS)
def test_empty_database(user, lang, empty_db_url):
    at = shelters_page(user, lang, empty_db_url)
    metrics = {m.label: m.value for m in at.metric}
    people = "In a shelter tonight" if lang == "en" else "Hébergés cette nuit"
    assert metrics[people] == "0"
    assert at.info, "an empty notice (no entries, no length of stay)"
    assert not [c for c in columns(at) if CODE[lang] in c]


@pytest.fixture(scope="module")
def long_stay_db(demo_db_url, tmp_path_factory):
    """The demo database plus two stays open for 200 days: a case of Bamako (the focal
    point's region) in a Bamako shelter, and a case of another region in Gao's shelter."""
    path = tmp_path_factory.mktemp("shelters") / "long.db"
    shutil.copy(demo_db_url.removeprefix("sqlite:///"), path)
    eng = make_engine(f"sqlite:///{path}")
    c, r, sh = schema.cases, schema.regions, schema.shelters
    with eng.begin() as conn:
        bko = conn.execute(sa.select(r.c.id).where(r.c.code == "ML-BKO")).scalar()
        local = conn.execute(sa.select(c.c.id, c.c.code).where(c.c.region_id == bko).order_by(c.c.id)).first()
        other = conn.execute(sa.select(c.c.id, c.c.code).where(c.c.region_id != bko).order_by(c.c.id)).first()
        shelter = dict(conn.execute(sa.select(sh.c.code, sh.c.id)).all())
        entered = date.today() - timedelta(days=200)
        conn.execute(schema.shelter_stays.insert(), [
            {"case_id": local.id, "shelter_id": shelter["SH-BKO-1"], "entered_on": entered},
            {"case_id": other.id, "shelter_id": shelter["SH-GAO-1"], "entered_on": entered},
        ])
    eng.dispose()
    return f"sqlite:///{path}", local.code, other.code


def case_codes(at, lang):
    tables = [df.value for df in at.dataframe if CODE[lang] in df.value.columns]
    return set(tables[0][CODE[lang]]) if tables else set()


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_long_open_stays_by_role(long_stay_db, lang):
    url, local, other = long_stay_db
    committee = shelters_page("committee", lang, url)
    assert CASES[lang] in [s.value for s in committee.subheader]
    assert {local, other} <= case_codes(committee, lang)
    focal = shelters_page("focal", lang, url)  # Bamako only: its shelters, its cases
    codes = case_codes(focal, lang)
    assert local in codes and other not in codes
    minister = shelters_page("minister", lang, url)
    assert not case_codes(minister, lang) and CASES[lang] not in [s.value for s in minister.subheader]
    assert local not in texts(minister) and other not in texts(minister)


def test_switching_step_and_breakdowns(demo_db_url):
    at = shelters_page("committee", "en", demo_db_url)
    at.radio(key="shelters_step").set_value("week").run()
    at.radio(key="shelters_by").set_value("region").run()
    at.radio(key="shelters_los_by").set_value("age_group").run()
    assert not at.exception
    los = [df.value for df in at.dataframe if "Adult / child" in df.value.columns]
    assert los and list(los[0]["Adult / child"])[-1] == "All stays"


@pytest.fixture(scope="module")
def many_shelters_db(empty_db_url, tmp_path_factory):
    """The empty database (4 shelters) plus 6 more: a shelter picker is offered; the last
    one has capacity only for the last 30 days."""
    path = tmp_path_factory.mktemp("shelters") / "many.db"
    shutil.copy(empty_db_url.removeprefix("sqlite:///"), path)
    eng = make_engine(f"sqlite:///{path}")
    with eng.begin() as conn:
        region = conn.execute(sa.select(schema.regions.c.id).order_by(schema.regions.c.id)).scalars().first()
        for i in range(6):
            sid = conn.execute(schema.shelters.insert().values(code=f"SH-X-{i}", name=f"Extra shelter {i}",
                                                               region_id=region)).inserted_primary_key[0]
            # the last one opened 30 days ago: no capacity before that
            since = date.today() - timedelta(days=30) if i == 5 else date(2020, 1, 1)
            conn.execute(schema.shelter_capacity.insert().values(shelter_id=sid, valid_from=since, beds_women=5))
    eng.dispose()
    return f"sqlite:///{path}"


def test_shelter_picker_with_many_shelters(many_shelters_db, empty_db_url):
    few = shelters_page("committee", "en", empty_db_url)
    assert [m.label for m in few.multiselect] == ["Regions"]  # 4 shelters: no picker, only the sidebar's regions
    at = shelters_page("committee", "en", many_shelters_db)
    picker = at.multiselect(key="shelters_pick")
    assert len(picker.options) == 10 and picker.value == []
    occupancy = at.dataframe[0].value
    assert len(occupancy) == 10
    picker.set_value(["SH-X-0", "SH-X-1"]).run()
    assert not at.exception
    assert list(at.dataframe[0].value["Shelter"]) == ["Extra shelter 0", "Extra shelter 1"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Beds today"] == "10"  # 5 + 5


def test_capacity_gap_is_said_not_counted_as_zero(many_shelters_db):
    at = shelters_page("minister", "en", many_shelters_db)
    gaps = [w.value for w in at.warning if "Extra shelter 5" in w.value]
    assert len(gaps) == 1 and "no capacity recorded for" in gaps[0] and "not counted as zero beds" in gaps[0]
    per_shelter = [df.value for df in at.dataframe if "Nights without capacity" in df.value.columns]
    assert per_shelter and list(per_shelter[0]["Nights without capacity"]).count("0") == 9
    assert any("Nobody stayed in these shelters" in i.value for i in at.info)
