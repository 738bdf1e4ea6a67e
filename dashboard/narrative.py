"""Plain sentences from the summary figures, in the session's language (no streamlit).

The figures come in already protected for the viewer (``privacy.protect``): a count may
be the text "< k" (hidden; the sentence says "fewer than k") and a median or rate over
fewer than k cases may be None (withheld). Whatever the role, a median or rate over fewer
than k cases is never interpreted: the sentence says there are too few cases to say.

Changes are judged at the precision the figure is shown with (whole counts, whole
percentages, days to one decimal), so a sentence never reads "up from 62 % to 62 %".
A hidden count is known to lie between 1 and k − 1, which is enough to say "up" when the
other period has k or more and "down" when it has none.

Every sentence is a full msgid (``N_``) or a main clause plus a change clause joined by
the msgid "{statement}, {change}.", so translators can reorder within each.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from dashboard.domain import N_, PILLAR_LABELS
from dashboard.i18n import Translator
from dashboard.privacy import is_hidden

UP, DOWN, SAME, SAME_HIDDEN, NO_PREVIOUS = "up", "down", "same", "same_hidden", "no_previous"
COUNT, PERCENT, DAYS = "count", "percent", "days"


@dataclass(frozen=True)
class Figure:
    """One figure this period and the previous one (both as protected for the viewer).

    value / previous: a number, "< k" for a hidden count, or None (withheld or none).
    n / previous_n: the number of cases (or referrals) a median or rate is computed over;
    None for plain counts."""

    value: object = None
    previous: object = None
    n: object = None
    previous_n: object = None


@dataclass(frozen=True)
class Handoff:
    """One agency pair of the bottleneck ranking: median days from sending to decision."""

    sender: str
    receiver: str
    days: Figure


@dataclass(frozen=True)
class PlanStatus:
    """Plan activities in the selection, as of today."""

    total: int
    completed: int
    on_track: int
    delayed: int
    delayed_by_pillar: dict = field(default_factory=dict)  # pillar code -> delayed activities


# ---------------------------------------------------------------- from the query frames
def headline_figures(row: dict) -> dict[str, Figure]:
    """A protected ``queries.summary.headline`` row (as a dict) as the figures of :func:`sentences`."""
    def fig(name, n=None):
        return Figure(row[name], row[f"{name}_prev"], None if n is None else row[n],
                      None if n is None else row[f"{n}_prev"])
    return {
        "victims": fig("victims"),
        "women_girls": fig("women_girls"),
        "minors": fig("minors"),
        "within_target": fig("within_target", "within_target_n"),
        "first_assistance": fig("first_assist", "first_assist_n"),
        "utilisation": fig("utilisation", "utilisation_n"),
    }


def plan_status(pillars) -> PlanStatus:
    """A ``queries.plan.pillar_summary`` frame as a :class:`PlanStatus`."""
    return PlanStatus(
        total=int(pillars["total"].sum()), completed=int(pillars["completed"].sum()),
        on_track=int(pillars["on_track"].sum()), delayed=int(pillars["delayed"].sum()),
        delayed_by_pillar=dict(zip(pillars["pillar"], (int(v) for v in pillars["delayed"]))))


def handoffs(ranking) -> list[Handoff]:
    """Protected ``queries.bottlenecks.ranking`` rows as :class:`Handoff` s."""
    return [Handoff(r["from_name"], r["to_name"], Figure(r["median"], r["previous_median"], r["n"], r["previous_n"]))
            for r in ranking.to_dict("records")]

# ---------------------------------------------------------------- helpers
def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return isinstance(value, float) and math.isnan(value)
    except TypeError:
        return False


def _count_of(n) -> int | None:
    """A case count as a number (None when hidden or missing)."""
    if _missing(n) or is_hidden(n):
        return None
    return int(n)


def _enough(value, n, k: int) -> bool:
    """A median or rate that may be interpreted: present, over k or more cases."""
    if _missing(value):
        return False
    if _missing(n):
        return True
    count = _count_of(n)
    return count is not None and count >= k


def _display_key(value, kind: str):
    if kind == PERCENT:
        return round(float(value) * 100)
    if kind == DAYS:
        return round(float(value), 1)
    return int(value)


def direction(value, previous, k: int, kind: str = COUNT) -> str:
    """UP, DOWN, SAME, SAME_HIDDEN (both hidden) or NO_PREVIOUS, at display precision."""
    if _missing(previous) or _missing(value):
        return NO_PREVIOUS
    hidden_now, hidden_before = is_hidden(value), is_hidden(previous)
    if hidden_now and hidden_before:
        return SAME_HIDDEN
    if hidden_now or hidden_before:
        # a hidden count lies in 1..k-1; the other one is 0 or at least k (else it would be hidden too)
        shown = _display_key(previous if hidden_now else value, kind)
        shown_is_higher = shown >= k
        if hidden_now:
            return DOWN if shown_is_higher else UP
        return UP if shown_is_higher else DOWN
    a, b = _display_key(value, kind), _display_key(previous, kind)
    if a > b:
        return UP
    if a < b:
        return DOWN
    return SAME


def count_text(t: Translator, value, k: int) -> str:
    if is_hidden(value):
        return t.gettext(N_("fewer than {k}")).format(k=k)
    return t.number(int(value))


def days_number(t: Translator, value) -> str:
    """Days as shown: whole when whole, else one decimal (12; 12.5 / 12,5)."""
    v = round(float(value), 1)
    return t.number(v, 0 if v == int(v) else 1)


def days_text(t: Translator, value) -> str:
    """'12 days', '1 day' / '12 jours', '1,5 jour' (French takes the singular below 2)."""
    v = round(float(value), 1)
    singular = abs(v) < 2 if t.lang == "fr" else v == 1
    msg = N_("{days} day") if singular else N_("{days} days")
    return t.gettext(msg).format(days=days_number(t, v))


def _format(t: Translator, value, kind: str, k: int) -> str:
    if kind == PERCENT:
        return t.percent(float(value))
    if kind == DAYS:
        return days_number(t, value)
    return count_text(t, value, k)


def change_clause(t: Translator, dirn: str, previous, kind: str, k: int) -> str:
    if dirn == UP:
        return t.gettext(N_("up from {previous}")).format(previous=_format(t, previous, kind, k))
    if dirn == DOWN:
        return t.gettext(N_("down from {previous}")).format(previous=_format(t, previous, kind, k))
    if dirn == SAME:
        return t.gettext(N_("unchanged from the previous period"))
    if dirn == SAME_HIDDEN:
        return t.gettext(N_("as in the previous period"))
    return t.gettext(N_("with no figure for the previous period to compare"))


def _with_change(t: Translator, statement: str, fig: Figure, kind: str, k: int, rate: bool = False) -> str:
    previous = fig.previous
    if rate and not _enough(previous, fig.previous_n, k):
        previous = None
    dirn = direction(fig.value, previous, k, kind)
    return t.gettext(N_("{statement}, {change}.")).format(statement=statement, change=change_clause(t, dirn, previous, kind, k))


# ---------------------------------------------------------------- the sentences
def victims_sentences(t: Translator, k: int, total: Figure, women_girls: Figure, minors: Figure) -> list[str]:
    value = total.value
    if is_hidden(value):
        statement = t.gettext(N_("Fewer than {k} victims were identified")).format(k=k)
    elif int(value) == 0:
        statement = t.gettext(N_("No victim was identified"))
    elif int(value) == 1:
        statement = t.gettext(N_("One victim was identified"))
    else:
        statement = t.gettext(N_("{n} victims were identified")).format(n=t.number(int(value)))
    out = [_with_change(t, statement, total, COUNT, k)]
    if is_hidden(value) or int(value) > 0:
        out.append(t.gettext(N_("This includes {women} women and girls and {minors} minors.")).format(
            women=count_text(t, women_girls.value, k), minors=count_text(t, minors.value, k)))
    return out


def within_target_sentence(t: Translator, k: int, fig: Figure) -> str:
    if _count_of(fig.n) == 0:
        return t.gettext(N_("No referral was decided in the period."))
    if not _enough(fig.value, fig.n, k):
        return t.gettext(N_("Too few referrals were decided to say what share met the target time."))
    statement = t.gettext(N_("{share} of referrals were decided within the target time")).format(share=t.percent(float(fig.value)))
    return _with_change(t, statement, fig, PERCENT, k, rate=True)


def first_assistance_sentence(t: Translator, k: int, fig: Figure) -> str:
    if _count_of(fig.n) == 0:
        return t.gettext(N_("No victim received a first assistance in the period."))
    if not _enough(fig.value, fig.n, k):
        return t.gettext(N_("Too few victims received a first assistance in the period to say how long they waited."))
    statement = t.gettext(N_("Victims waited a median of {days} from identification to first assistance")).format(
        days=days_text(t, fig.value))
    return _with_change(t, statement, fig, DAYS, k, rate=True)


def utilisation_sentence(t: Translator, k: int, fig: Figure) -> str:
    if _missing(fig.n) and _missing(fig.value):
        return t.gettext(N_("No shelter bed was available in the selection."))
    if _count_of(fig.n) == 0:
        return t.gettext(N_("Nobody stayed in the shelters of the selection in the period."))
    if not _enough(fig.value, fig.n, k):
        return t.gettext(N_("Too few people stayed in the shelters to give their occupancy."))
    statement = t.gettext(N_("Shelter beds were {share} occupied")).format(share=t.percent(float(fig.value)))
    return _with_change(t, statement, fig, PERCENT, k, rate=True)


def plan_sentences(t: Translator, plan: PlanStatus | None) -> list[str]:
    if plan is None or plan.total == 0:
        return [t.gettext(N_("No action plan activity is in the selection."))]
    out = [t.gettext(N_("The action plan has {total} activities in the selection: {completed} completed, "
                        "{on_track} on track and {delayed} delayed.")).format(total=t.number(plan.total), completed=t.number(plan.completed),
                                                      on_track=t.number(plan.on_track), delayed=t.number(plan.delayed))]
    delayed = {p: n for p, n in plan.delayed_by_pillar.items() if n}
    if delayed:
        top = max(delayed.values())
        leaders = [p for p, n in delayed.items() if n == top]
        if len(leaders) == 1:
            out.append(t.gettext(N_("{pillar} has the most delayed activities ({n}).")).format(
                pillar=t.label(PILLAR_LABELS, leaders[0]), n=t.number(top)))
    return out


def handoff_sentence(t: Translator, k: int, h: Handoff) -> str:
    if not _enough(h.days.value, h.days.n, k):
        return t.gettext(N_("Too few referrals from {sender} to {receiver} were decided to say how long they took.")).format(
            sender=h.sender, receiver=h.receiver)
    statement = t.gettext(N_("Referrals from {sender} to {receiver} took a median of {days} to a decision")).format(
        sender=h.sender, receiver=h.receiver, days=days_text(t, h.days.value))
    return _with_change(t, statement, h.days, DAYS, k, rate=True)


def sentences(t: Translator, k: int, *, victims: Figure, women_girls: Figure, minors: Figure,
              within_target: Figure | None = None, first_assistance: Figure | None = None,
              utilisation: Figure | None = None, plan: PlanStatus | None = None,
              handoffs: list[Handoff] = ()) -> list[str]:
    """The summary in a few plain sentences, in the translator's language."""
    out = victims_sentences(t, k, victims, women_girls, minors)
    if within_target is not None:
        out.append(within_target_sentence(t, k, within_target))
    if first_assistance is not None:
        out.append(first_assistance_sentence(t, k, first_assistance))
    if utilisation is not None:
        out.append(utilisation_sentence(t, k, utilisation))
    if plan is not None:
        out.extend(plan_sentences(t, plan))
    out.extend(handoff_sentence(t, k, h) for h in handoffs)
    return out
