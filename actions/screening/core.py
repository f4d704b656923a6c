"""The pre-screen's core: one message in, the new screening state and what to say out.

Plain Python, no Rasa import; the Rasa actions (actions.py) call `take_turn` once per message,
and the safety tests call exactly the same function on real phrasings.

Mentions raise questions; only clear answers decide:
- a plain statement decides: "I'm 5 months pregnant" (present), "I'm not pregnant" (absent),
  "I don't have cancer anymore" (past cancer present, current cancer absent);
- a hedged mention is asked about ("Just to check: are you pregnant at the moment?");
- a question or hypothetical ("what if I'm pregnant?") and someone else's condition decide
  nothing about the visitor;
- the reply to the screen's own question decides what the question asked and the reply did
  not already settle: "no i get cold sores sometimes" to "Right now, do you have a cold sore,
  a rash …?" records cold sores that come back, and no to everything else it asked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from actions.screening.evaluator import Outcome, Prompt, Screening, Status, evaluate, next_prompt
from actions.screening.language import Mention, Reading, ShortAnswer, Stance
from actions.screening.policy import Factor, Match, Policy, Tier

# Messages the screen answers on the side and then asks again. Not out_of_scope: no rule
# answers it during the screen, so it is read as an answer (and gets the hint if unclear).
SIDE_INTENTS = {"faq", "clinic_info", "bot_challenge", "thank", "greet"}


@dataclass(frozen=True)
class Turn:
    screening: Screening
    outcome: Outcome
    reask: bool  # the reply answered nothing the question asked: say so and ask again


def _covers(match: Match, mention: Mention) -> bool:
    return mention.who in match.who and mention.when in match.when


def mention_statuses(policy: Policy, mention: Mention, confirming: Iterable[str] = ()) -> dict[str, Status]:
    """What one mention says about each factor it can mean; factors it says nothing about are left out.

    `confirming`: the factor the visitor was just asked to confirm. Doubt about it again is
    their answer ("not sure"), not a doubt to ask about once more.
    """
    confirming = set(confirming)
    statuses: dict[str, Status] = {}
    for factor, match in policy.factors_for(mention.label, mention.value):
        if mention.stance == Stance.ASKED or mention.who not in match.who:
            continue  # a question, or someone else's: nothing about the visitor
        if mention.stance == Stance.DENIED:
            if mention.who == "self" and ("current" in match.when or mention.when in match.when):
                statuses[factor.id] = Status.ABSENT
        elif mention.stance == Stance.HEDGED:
            if mention.when in match.when or "current" in match.when:
                statuses[factor.id] = Status.UNSURE if factor.id in confirming else Status.PENDING
        elif _covers(match, mention):
            statuses[factor.id] = Status.PRESENT
        elif mention.ended and match.when == frozenset({"current"}):
            statuses[factor.id] = Status.ABSENT  # "I don't have cancer anymore": not now
    return statuses


def take_turn(policy: Policy, screening: Screening, reading: Reading, answering: bool) -> Turn:
    """Applies one message. `answering`: the message is the reply to `screening.prompt`."""
    prompt = screening.prompt if answering else None
    decided: set[str] = set()
    for mention in reading.mentions:
        statuses = mention_statuses(policy, mention, prompt.factors if prompt and prompt.question is None else ())
        for factor_id, status in statuses.items():
            screening = screening.with_status([factor_id], status, mention.text.lower())
        decided |= set(statuses)

    reask = False
    if prompt is not None:
        about = {
            f.id
            for f in policy.factors
            if f.id in prompt.factors or (prompt.question and f.question == prompt.question)
        }
        screening, reask = _answer_prompt(screening, prompt, reading, decided, named=bool(decided & about))
    return Turn(screening, evaluate(policy, screening), reask)


def general_facts(policy: Policy, reading: Reading) -> tuple[Factor, ...]:
    """Contraindications the visitor asked about in general ("what if I'm pregnant?"): worth a
    sentence with the answer, though they decide nothing about the visitor."""
    facts = (
        factor
        for mention in reading.mentions
        if mention.stance == Stance.ASKED
        for factor, _ in policy.factors_for(mention.label, mention.value)
        if factor.tier == Tier.NOT_SUITABLE
    )
    return tuple(dict.fromkeys(facts))


def _answer_prompt(
    screening: Screening, prompt: Prompt, reading: Reading, decided: set[str], named: bool
) -> tuple[Screening, bool]:
    """The reply's yes, no or not sure, for what the question asked and the mentions left open.

    `named`: the reply itself said something about the question's conditions ("yes, roaccutane",
    "I had melanoma years ago"), so a "yes" means that, and what is still unknown is asked next.
    """
    rest = [f for f in prompt.factors if f not in decided]
    if reading.answer == ShortAnswer.YES and not named:
        return screening.with_status(rest, Status.PRESENT).with_prompt(None), False
    if reading.answer == ShortAnswer.NO:
        return screening.with_status(rest, Status.ABSENT).with_prompt(None), False
    if reading.answer == ShortAnswer.UNSURE:
        return screening.with_status(rest, Status.UNSURE).with_prompt(None), False
    if named or reading.answer == ShortAnswer.YES:
        return screening.with_prompt(None), False  # what is still unknown is asked next
    if reading.intent in SIDE_INTENTS:
        return screening, False  # a question of their own: answered, then ours is asked again
    if prompt.retried:
        return screening.with_status(rest, Status.UNSURE).with_prompt(None), False
    return screening.with_prompt(Prompt(prompt.factors, prompt.question, retried=True)), True


def ask_next(policy: Policy, screening: Screening) -> Screening:
    """The screening with its next question (or none) recorded as the one being answered."""
    current = screening.prompt
    upcoming = next_prompt(policy, screening)
    if current is not None and upcoming is not None and current.factors == upcoming.factors:
        return screening  # asking the same again keeps its retry count
    return screening.with_prompt(upcoming)
