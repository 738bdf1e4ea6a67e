"""The summary's plain sentences, exact strings in both languages."""
import pytest

from dashboard import narrative as nv
from dashboard.i18n import translator
from dashboard.narrative import Figure, Handoff, PlanStatus

EN, FR = translator("en"), translator("fr")
K = 5
NBSP = "\xa0"  # French: a no-break space before %


@pytest.mark.parametrize("value, previous, kind, expected", [
    (12, 7, nv.COUNT, nv.UP),
    (7, 12, nv.COUNT, nv.DOWN),
    (7, 7, nv.COUNT, nv.SAME),
    (7, None, nv.COUNT, nv.NO_PREVIOUS),
    ("< 5", 12, nv.COUNT, nv.DOWN),  # hidden means 1..4, below 12
    ("< 5", 0, nv.COUNT, nv.UP),
    (12, "< 5", nv.COUNT, nv.UP),
    (0, "< 5", nv.COUNT, nv.DOWN),
    ("< 5", "< 5", nv.COUNT, nv.SAME_HIDDEN),
    (0.624, 0.618, nv.PERCENT, nv.SAME),  # both shown as 62 %
    (0.63, 0.618, nv.PERCENT, nv.UP),
    (6.02, 5.98, nv.DAYS, nv.SAME),  # both shown as 6
    (6.5, 6.0, nv.DAYS, nv.UP),
])
def test_direction(value, previous, kind, expected):
    assert nv.direction(value, previous, K, kind) == expected


def test_victims_up_down_unchanged_in_english():
    up = nv.victims_sentences(EN, K, Figure(1234, 987), Figure(900, 700), Figure(350, 300))
    assert up == ["1,234 victims were identified, up from 987.",
                  "This includes 900 women and girls and 350 minors."]
    down = nv.victims_sentences(EN, K, Figure(12, 20), Figure(9, 12), Figure(3, 4))
    assert down == ["12 victims were identified, down from 20.", "This includes 9 women and girls and 3 minors."]
    same = nv.victims_sentences(EN, K, Figure(12, 12), Figure(12, 12), Figure(0, 0))
    assert same == ["12 victims were identified, unchanged from the previous period.",
                    "This includes 12 women and girls and 0 minors."]
    assert nv.victims_sentences(EN, K, Figure(1, 0), Figure(1, 0), Figure(0, 0))[0] == "One victim was identified, up from 0."
    assert nv.victims_sentences(EN, K, Figure(0, 3), Figure(0, 0), Figure(0, 0)) == ["No victim was identified, down from 3."]


def test_victims_hidden_counts_read_fewer_than_k():
    # an aggregate-only viewer: counts 1..4 arrive as "< 5"
    en = nv.victims_sentences(EN, K, Figure("< 5", 12), Figure("< 5", 9), Figure(0, "< 5"))
    assert en == ["Fewer than 5 victims were identified, down from 12.",
                  "This includes fewer than 5 women and girls and 0 minors."]
    fr = nv.victims_sentences(FR, K, Figure("< 5", 12), Figure("< 5", 9), Figure(0, "< 5"))
    assert fr == ["Moins de 5 victimes ont été identifiées, en baisse par rapport à 12.",
                  "Ce total comprend moins de 5 femmes et filles et 0 mineurs."]
    both = nv.victims_sentences(EN, K, Figure("< 5", "< 5"), Figure("< 5", "< 5"), Figure("< 5", 0))
    assert both[0] == "Fewer than 5 victims were identified, as in the previous period."
    assert nv.victims_sentences(FR, K, Figure(40, "< 5"), Figure(30, 0), Figure(5, 0))[0] == (
        "40 victimes ont été identifiées, en hausse par rapport à moins de 5.")


def test_victims_in_french():
    assert nv.victims_sentences(FR, K, Figure(1234, 987), Figure(900, 700), Figure(350, 300)) == [
        "1\u202f234 victimes ont été identifiées, en hausse par rapport à 987.",
        "Ce total comprend 900 femmes et filles et 350 mineurs.",
    ]
    assert nv.victims_sentences(FR, K, Figure(12, 12), Figure(8, 8), Figure(2, 2))[0] == (
        "12 victimes ont été identifiées, sans changement par rapport à la période précédente.")
    assert nv.victims_sentences(FR, K, Figure(0, 3), Figure(0, 0), Figure(0, 0)) == [
        "Aucune victime n’a été identifiée, en baisse par rapport à 3."]


def test_handoff_up_and_down_both_languages():
    slow = Handoff("Police Kayes", "Shelter Kayes", Figure(12, 7, n=20, previous_n=18))
    assert nv.handoff_sentence(EN, K, slow) == (
        "Referrals from Police Kayes to Shelter Kayes took a median of 12 days to a decision, up from 7.")
    assert nv.handoff_sentence(FR, K, slow) == (
        "Il a fallu en médiane 12 jours pour qu’un référencement de Police Kayes vers Shelter Kayes reçoive une "
        "décision, en hausse par rapport à 7.")
    faster = Handoff("A", "B", Figure(1.5, 3, n=9, previous_n=9))
    assert nv.handoff_sentence(EN, K, faster) == "Referrals from A to B took a median of 1.5 days to a decision, down from 3."
    # French takes the singular below 2, with a decimal comma
    assert nv.handoff_sentence(FR, K, faster) == (
        "Il a fallu en médiane 1,5 jour pour qu’un référencement de A vers B reçoive une décision, "
        "en baisse par rapport à 3.")
    one = Handoff("A", "B", Figure(1, 1, n=9, previous_n=9))
    assert nv.handoff_sentence(EN, K, one) == (
        "Referrals from A to B took a median of 1 day to a decision, unchanged from the previous period.")


def test_too_few_cases_to_say():
    # n < k: never interpreted, whatever the role (here the median is present: committee view)
    few = Handoff("A", "B", Figure(12, 7, n=3, previous_n=20))
    assert nv.handoff_sentence(EN, K, few) == "Too few referrals from A to B were decided to say how long they took."
    assert nv.handoff_sentence(FR, K, few) == (
        "Trop peu de référencements de A vers B ont reçu une décision pour dire combien de temps ils ont pris.")
    # withheld for an aggregate-only viewer: the median arrives as None and n as "< 5"
    withheld = Figure(None, 4.0, n="< 5", previous_n=30)
    assert nv.first_assistance_sentence(EN, K, withheld) == (
        "Too few victims received a first assistance in the period to say how long they waited.")
    assert nv.first_assistance_sentence(FR, K, withheld) == (
        "Trop peu de victimes ont reçu une première assistance sur la période pour dire combien de temps elles "
        "ont attendu.")
    assert nv.within_target_sentence(EN, K, Figure(0.5, 0.6, n=4, previous_n=40)) == (
        "Too few referrals were decided to say what share met the target time.")
    assert nv.within_target_sentence(EN, K, Figure(None, None, n=0, previous_n=0)) == "No referral was decided in the period."
    assert nv.first_assistance_sentence(FR, K, Figure(None, None, n=0)) == (
        "Aucune victime n’a reçu de première assistance sur la période.")


def test_previous_figure_missing_or_too_few():
    # previous median over 2 cases: not compared
    fig = Figure(4, 9, n=30, previous_n=2)
    assert nv.first_assistance_sentence(EN, K, fig) == (
        "Victims waited a median of 4 days from identification to first assistance, "
        "with no figure for the previous period to compare.")
    assert nv.first_assistance_sentence(FR, K, fig) == (
        "Les victimes ont attendu en médiane 4 jours entre l’identification et la première assistance, "
        "sans chiffre de la période précédente pour comparer.")
    assert nv.within_target_sentence(EN, K, Figure(0.62, None, n=50, previous_n=0)) == (
        "62% of referrals were decided within the target time, with no figure for the previous period to compare.")


def test_rates_up_down_unchanged():
    assert nv.within_target_sentence(EN, K, Figure(0.62, 0.55, n=50, previous_n=40)) == (
        "62% of referrals were decided within the target time, up from 55%.")
    assert nv.within_target_sentence(FR, K, Figure(0.62, 0.55, n=50, previous_n=40)) == (
        f"62{NBSP}% des référencements ont reçu une décision dans le délai cible, en hausse par rapport à 55{NBSP}%.")
    assert nv.within_target_sentence(EN, K, Figure(0.621, 0.619, n=50, previous_n=40)) == (
        "62% of referrals were decided within the target time, unchanged from the previous period.")
    assert nv.utilisation_sentence(EN, K, Figure(0.7, 0.78)) == "Shelter beds were 70% occupied, down from 78%."
    assert nv.utilisation_sentence(FR, K, Figure(0.7, 0.78)) == (
        f"Les lits des centres d’hébergement ont été occupés à 70{NBSP}%, en baisse par rapport à 78{NBSP}%.")
    assert nv.utilisation_sentence(EN, K, Figure(None, None)) == "No shelter bed was available in the selection."


def test_plan_sentences():
    plan = PlanStatus(total=34, completed=10, on_track=15, delayed=9,
                      delayed_by_pillar={"prevention": 2, "protection": 5, "prosecution": 2, "partnership": 0})
    assert nv.plan_sentences(EN, plan) == [
        "The action plan has 34 activities in the selection: 10 completed, 15 on track and 9 delayed.",
        "Protection has the most delayed activities (5).",
    ]
    assert nv.plan_sentences(FR, plan) == [
        "Le plan d’action compte 34 activités dans la sélection : 10 achevées, 15 dans les temps et 9 en retard.",
        "Le pilier Protection compte le plus d’activités en retard (5).",
    ]
    tie = PlanStatus(total=4, completed=0, on_track=2, delayed=2, delayed_by_pillar={"prevention": 1, "protection": 1})
    assert len(nv.plan_sentences(EN, tie)) == 1  # no single leader: no second sentence
    assert nv.plan_sentences(EN, PlanStatus(0, 0, 0, 0)) == ["No action plan activity is in the selection."]


def test_sentences_in_order():
    out = nv.sentences(
        EN, K, victims=Figure(20, 10), women_girls=Figure(15, 8), minors=Figure(6, 2),
        within_target=Figure(0.8, 0.8, n=30, previous_n=25), first_assistance=Figure(3, 5, n=20, previous_n=9),
        utilisation=Figure(0.5, None), plan=PlanStatus(2, 1, 1, 0),
        handoffs=[Handoff("P", "S", Figure(10, None, n=8, previous_n=0))])
    assert out == [
        "20 victims were identified, up from 10.",
        "This includes 15 women and girls and 6 minors.",
        "80% of referrals were decided within the target time, unchanged from the previous period.",
        "Victims waited a median of 3 days from identification to first assistance, down from 5.",
        "Shelter beds were 50% occupied, with no figure for the previous period to compare.",
        "The action plan has 2 activities in the selection: 1 completed, 1 on track and 0 delayed.",
        "Referrals from P to S took a median of 10 days to a decision, with no figure for the previous period to compare.",
    ]


def test_utilisation_edge_cases():
    assert nv.utilisation_sentence(EN, K, Figure(0.0, 0.1, n=0, previous_n=8)) == (
        "Nobody stayed in the shelters of the selection in the period.")
    assert nv.utilisation_sentence(FR, K, Figure(None, 0.3, n="< 5", previous_n=8)) == (
        "Trop peu de personnes ont été hébergées pour donner le taux d’occupation.")
    assert nv.utilisation_sentence(EN, K, Figure(0.42, 0.3, n=12, previous_n=3)) == (
        "Shelter beds were 42% occupied, with no figure for the previous period to compare.")
