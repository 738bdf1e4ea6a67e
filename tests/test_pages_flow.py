"""The case flow and bottlenecks pages through AppTest: every role that has them, both
languages, on the demo database and on an empty one."""
import pytest

from tests.apptest import app_for, open_page, texts

ROLES = ["admin", "committee", "minister", "partner", "focal"]
CASE_FLOW, BOTTLENECKS = "app_pages/case_flow.py", "app_pages/bottlenecks.py"
TITLES = {
    "en": {"flow": "Case flow", "funnel": "Cohort funnel through the referral chain", "justice": "Justice track",
           "bottlenecks": "Bottlenecks between agencies", "ranking": "Worst hand-offs",
           "stages": "Time in each stage of the referral chain", "overdue_list": "Overdue referrals by case",
           "no_overdue": "No overdue referral in this selection."},
    "fr": {"flow": "Parcours des cas", "funnel": "Entonnoir de la cohorte le long de la chaîne de référencement",
           "justice": "Volet judiciaire", "bottlenecks": "Goulots d’étranglement entre les structures",
           "ranking": "Passages de relais les plus lents",
           "stages": "Temps passé à chaque étape de la chaîne de référencement",
           "overdue_list": "Référencements en retard, par cas",
           "no_overdue": "Aucun référencement en retard dans cette sélection."},
}


def _expanders(at) -> list[str]:
    return [e.label for e in at.expander]


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("role", ROLES)
def test_pages_with_demo_data(role, lang, demo_db_url):
    words = TITLES[lang]
    at = open_page(app_for(role, lang, demo_db_url), CASE_FLOW)
    assert not at.exception, at.exception
    shown = texts(at)
    assert words["flow"] in shown and words["funnel"] in shown and words["justice"] in shown
    assert len(at.get("vega_lite_chart")) == 4  # funnel, matrix, monthly, justice
    assert len(at.metric) == 4  # complaints, investigations, prosecutions, convictions
    assert at.radio(key="case_flow_breakdown").value == "sex"

    at = open_page(at, BOTTLENECKS)
    assert not at.exception, at.exception
    shown = texts(at)
    assert words["bottlenecks"] in shown and words["ranking"] in shown and words["stages"] in shown
    assert len(at.dataframe) >= 4  # ranking, per receiver, per pair, time in stage
    # days per receiver, declines, overdue by age, time in stage, backlog; with the small demo
    # some are wholly below k for ministers and partners and give way to a notice
    assert len(at.get("vega_lite_chart")) >= (4 if role in ("admin", "committee") else 3)
    lists = [label for label in _expanders(at) if words["overdue_list"] in label]
    if role in ("minister", "partner"):
        assert lists == []
        assert "< 5" in shown  # the note on hidden small counts
    elif role == "focal":  # the focal point's region has no overdue referral in the small demo
        assert lists or words["no_overdue"] in shown
    else:
        assert lists, "the committee sees the overdue referrals by case"


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("role", ROLES)
def test_pages_on_an_empty_database(role, lang, empty_db_url):
    at = open_page(app_for(role, lang, empty_db_url), CASE_FLOW)
    assert not at.exception, at.exception
    assert len(at.info) >= 4  # one "nothing in this selection" per section
    assert not at.get("vega_lite_chart")
    at = open_page(at, BOTTLENECKS)
    assert not at.exception, at.exception
    assert len(at.info) >= 4
    assert not at.get("vega_lite_chart")


@pytest.mark.parametrize("by", ["age_group", "exploitation", "nationality"])
def test_breakdown_selector(by, demo_db_url):
    at = open_page(app_for("committee", "en", demo_db_url), CASE_FLOW)
    at.radio(key="case_flow_breakdown").set_value(by).run()
    assert not at.exception, at.exception
    assert len(at.get("vega_lite_chart")) == 4


# ---------------------------------------------------------------- long tables are capped
def _demo_filters():
    from datetime import date

    from dashboard.filters import Filters

    return Filters.from_params({}, date.today())  # the page's default: the last 12 months


def _pairs(db_url):
    from dashboard.db import make_engine
    from dashboard.queries import bottlenecks as q

    eng = make_engine(db_url)
    with eng.connect() as conn:
        pairs = q.performance(conn, _demo_filters(), by="pair")
    eng.dispose()
    return pairs.sort_values(["sent", "decisions", "from_org", "to_org"], ascending=[False, False, True, True])


def _frame_with(at, heading: str):
    found = [df.value for df in at.dataframe if heading in df.value.columns]
    assert len(found) == 1, [list(df.value.columns) for df in at.dataframe]
    return found[0]


def _pair_table(at):
    """The per-pair table (the ranking also has a hand-off column, but no acknowledged one)."""
    found = [df.value for df in at.dataframe if {"Hand-off", "Acknowledged"} <= set(df.value.columns)]
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize("role", ["committee", "minister"])
def test_per_pair_table_shows_the_busiest_pairs_or_one_organisation(role, demo_db_url):
    pairs = _pairs(demo_db_url)
    assert len(pairs) > 40  # the small demo has more pairs than the page shows at once
    at = open_page(app_for(role, "en", demo_db_url), BOTTLENECKS)
    assert not at.exception, at.exception
    table = _pair_table(at)
    busiest = [f"{a} → {b}" for a, b in zip(pairs["from_org"], pairs["to_org"])][:40]
    assert table["Hand-off"].tolist() == busiest
    assert f"Showing the 40 pairs with the most referrals sent, of {len(pairs)} pairs." in texts(at)

    # one organisation: every pair it sends or receives in, whatever its rank
    org = pairs["to_org"].iloc[-1]
    at.selectbox(key="bottlenecks_pairs_org").set_value(org).run()
    assert not at.exception, at.exception
    mine = pairs[(pairs["from_org"] == org) | (pairs["to_org"] == org)]
    table = _pair_table(at)
    assert table["Hand-off"].tolist() == [f"{a} → {b}" for a, b in zip(mine["from_org"], mine["to_org"])]
    assert f"Showing the {len(mine)} pairs in which" in texts(at)


def test_overdue_list_shows_the_most_overdue_and_says_of_how_many(demo_db_url, tmp_path):
    """With more overdue referrals than the page lists, the committee sees the 100 most
    overdue and a line saying of how many."""
    import shutil
    from datetime import date, timedelta

    import sqlalchemy as sa

    from dashboard import schema
    from dashboard.db import make_engine
    from dashboard.privacy import Viewer
    from dashboard.queries import bottlenecks as q

    path = tmp_path / "overdue.db"
    shutil.copy(demo_db_url.removeprefix("sqlite:///"), path)
    url = f"sqlite:///{path}"
    eng = make_engine(url)
    r = schema.referrals
    with eng.begin() as conn:  # 150 referrals sent 30 to 300 days ago lose their decision
        ids = conn.execute(sa.select(r.c.id).where(r.c.sent_on < date.today() - timedelta(days=30))
                           .order_by(r.c.id).limit(150)).scalars().all()
        conn.execute(r.update().where(r.c.id.in_(ids)).values(
            decided_on=None, outcome=None, decline_reason=None, first_service_on=None, days_to_decision=None,
            days_to_first_service=None))
        overdue = int(q.overdue_summary(conn, _demo_filters())["overdue"].iloc[0])
        expected = q.overdue_list(conn, _demo_filters(), Viewer("committee", "committee"), limit=100)
    eng.dispose()
    assert overdue > 100

    at = open_page(app_for("committee", "en", url), BOTTLENECKS)
    assert not at.exception, at.exception
    listing = _frame_with(at, "Days over target")
    assert listing["Referral"].tolist() == expected["referral_code"].tolist() and len(listing) == 100
    assert f"Showing the 100 most overdue referrals of {overdue:,}, most overdue first." in texts(at)
