"""The summary page in the real app (AppTest): every role, both languages, demo data and
an empty database."""
import pytest

from apptest import app_for, open_page, texts

PAGE = "app_pages/summary.py"
ROLES = ("admin", "committee", "minister", "partner", "focal")
TITLES = {"en": "Summary", "fr": "Synthèse"}
HEADINGS = {
    "en": ("Headline figures", "National Action Plan", "The three slowest hand-offs", "In plain words", "Meeting pack"),
    "fr": ("Chiffres clés", "Plan d'action national", "Les trois passages de relais les plus lents", "En clair",
           "Dossier de réunion"),
}
METRICS = {"en": "Victims identified", "fr": "Victimes identifiées"}
HANDOFF = {"en": "Median days to decision", "fr": "Délai médian de décision"}


def _summary(role, lang, url):
    at = app_for(role, lang, url)
    if role != "minister":  # the summary is the minister's landing page
        at = open_page(at, PAGE)
    assert not at.exception, at.exception
    return at


def _labels(at):
    return [m.label for m in at.metric]


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("role", ROLES)
def test_summary_with_demo_data(role, lang, demo_db_url):
    at = _summary(role, lang, demo_db_url)
    assert at.title[0].value == TITLES[lang]
    headings = [h.value for h in at.subheader]
    for heading in HEADINGS[lang]:
        assert heading in headings
    assert METRICS[lang] in _labels(at)
    labels = _labels(at)
    assert len(labels) - labels.count(HANDOFF[lang]) == 9  # six headline figures, three plan figures
    assert 1 <= labels.count(HANDOFF[lang]) <= 3  # one card per slow hand-off
    body = texts(at)
    assert ("victims were identified" in body) if lang == "en" else ("victimes ont été identifiées" in body)
    # the agenda option only for case-level roles
    agenda = [c for c in at.checkbox if c.key == "summary_pack_agenda"]
    assert bool(agenda) == (role in ("admin", "committee", "focal"))
    if role in ("minister", "partner"):
        assert ("Counts from 1 to 4" in body) if lang == "en" else ("Les effectifs de 1 à 4" in body)


def test_minister_never_sees_small_counts(demo_db_url):
    """Every metric value of an aggregate-only viewer is 0, at least k, "< 5" or a share/median."""
    at = _summary("minister", "en", demo_db_url)
    for m in at.metric:
        value = m.value.replace(",", "")
        if value.isdigit():
            assert int(value) == 0 or int(value) >= 5, (m.label, m.value)


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("role", ["committee", "minister", "partner", "admin", "focal"])
def test_summary_with_an_empty_database(role, lang, empty_db_url):
    at = _summary(role, lang, empty_db_url)
    assert at.title[0].value == TITLES[lang]
    body = texts(at)
    assert ("No victim was identified" in body) if lang == "en" else ("Aucune victime n’a été identifiée" in body)
    values = dict(zip(_labels(at), (m.value for m in at.metric)))
    assert values[METRICS[lang]] == "0"


@pytest.fixture(scope="module")
def one_small_month_db(empty_db_url, tmp_path_factory):
    """Victims in the three whole months before this one: 10, 2 and 10 (all women, adults)."""
    import shutil
    from datetime import date, timedelta

    import sqlalchemy as sa

    from dashboard import schema
    from dashboard.db import make_engine

    path = tmp_path_factory.mktemp("summary") / "small-month.db"
    shutil.copy(empty_db_url.removeprefix("sqlite:///"), path)
    eng = make_engine(f"sqlite:///{path}")
    first = date.today().replace(day=1)
    months = []
    for _ in range(3):
        first = (first - timedelta(days=1)).replace(day=1)
        months.append(first)
    with eng.begin() as conn:
        region = conn.execute(sa.select(schema.regions.c.id).order_by(schema.regions.c.id)).scalars().first()
        rows = []
        for m, n in zip(months, (10, 2, 10)):
            for i in range(n):
                rows.append({"code": f"C-{m:%Y%m}-{i}", "region_id": region, "sex": "female", "age_band": "24-26",
                             "is_minor": False, "trafficking_status": "actual", "identified_on": m + timedelta(days=i),
                             "case_status": "active", "current_stage": "identification"})
        conn.execute(schema.cases.insert(), rows)
    eng.dispose()
    return f"sqlite:///{path}"


def test_sparkline_months_cannot_be_worked_out_from_the_headline(one_small_month_db):
    """The months of a sparkline add up to the headline figure: with one month of 2 victims,
    a minister's line must leave out at least one more month (else 22 − 10 − 10 = 2)."""
    at = _summary("minister", "en", one_small_month_db)
    metric = next(m for m in at.metric if m.label == "Victims identified")
    assert metric.value == "22"
    shown = list(metric.proto.chart_data)
    assert 2 not in shown and len(shown) <= 1  # two of the three months left out, not only the small one
    committee = _summary("committee", "en", one_small_month_db)
    metric = next(m for m in committee.metric if m.label == "Victims identified")
    assert sorted(metric.proto.chart_data) == [2, 10, 10]  # case-level roles see every month
