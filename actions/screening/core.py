"""The pre-screen's core: one message in, the new screening state and what to say out.

Plain Python, no Rasa import; the Rasa actions (actions.py) call `take_turn` once per message,
and the safety tests call exactly the same function on real phrasings.

Eligible can only come from plain denials. Mentions raise questions; only clear answers decide:
- a plain statement decides: "I'm 5 months pregnant" (present), "I don't have cancer anymore"
  (past cancer present, current cancer absent);
- a denied term settles its factor only inside a clause that is a plain denial ("I'm not
  pregnant"), and a "no" settles the rest of a question only when the whole reply is one
  (answers.py); anything more ("no, but my mum has it") leaves those factors open, and each is
  asked on its own ("Just to check: …"); an answer to that which is still unclear goes to a
  clinician;
- a hedged mention is asked about; a question, a hypothetical or someone else's condition
  decides nothing about the visitor;
- a correction wins over what it corrects: "no - wait, I AM breastfeeding" is breastfeeding,
  and "I said no to the cold sore question but …" makes cold sores a clinician's question;
- after the outcome the screen still listens (`late_addition`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from actions.screening.answers import (
    adds_to_earlier_answer,
    clear_no,
    is_correction,
    plain_denial,
    plainly_denied,
    plainly_over,
)
from actions.screening.evaluator import Outcome, Prompt, Screening, Status, evaluate, next_prompt
from actions.screening.language import Mention, Reading, ShortAnswer, Stance, asks_a_question
from actions.screening.policy import Factor, Match, Policy, Tier

# Messages the screen answers on the side and then asks again. Not out_of_scope: no rule
# answers it during the screen, so it is read as an answer (and each open factor is asked if unclear).
SIDE_INTENTS = {"faq", "clinic_info", "bot_challenge", "thank", "greet"}
# A question is shown at most this often; after that what it left open is asked factor by factor.
MOST_ASKED = 2
# policy.yml's factor for what a visitor added after the outcome that the screen could not read.
TOLD_LATER = "told_later"


@dataclass(frozen=True)
class Turn:
    screening: Screening
    outcome: Outcome


def _covers(match: Match, mention: Mention) -> bool:
    return mention.who in match.who and mention.when in match.when


def _in_window(factor: Factor, mention: Mention) -> Status | None:
    """A past mention of a factor that counts only recently: present within the window, asked
    about when nobody said when, nothing when it was longer ago."""
    if mention.ago_days is None:
        return Status.PENDING if mention.when == "past" else Status.PRESENT  # "I go on sunbeds every week"
    return Status.PRESENT if mention.ago_days <= factor.within_weeks * 7 else None


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
            if mention.who == "self" and not match.indirect and ("current" in match.when or mention.when in match.when):
                statuses[factor.id] = Status.ABSENT
        elif mention.stance == Stance.HEDGED:
            if mention.when in match.when or "current" in match.when:
                statuses[factor.id] = Status.UNSURE if factor.id in confirming else Status.PENDING
        elif factor.within_weeks is not None and mention.when != "current":
            if status := _in_window(factor, mention):
                statuses[factor.id] = status
        elif _covers(match, mention):
            statuses[factor.id] = Status.PRESENT
        elif mention.ended and "past" not in match.when and not match.indirect:
            statuses[factor.id] = Status.ABSENT  # "I don't have cancer anymore": not now
    return statuses


def _statuses_in(policy: Policy, reading: Reading, mention: Mention, confirming: Iterable[str]) -> dict[str, Status]:
    """A mention's statuses as this message lets them count: a denial only in a plain clause,
    and a denial the visitor is taking back ("I said no to …, but") as a question to ask again."""
    statuses = mention_statuses(policy, mention, confirming)
    if Status.ABSENT not in statuses.values():
        return statuses
    if plainly_denied(reading, mention) or (mention.stance == Stance.ASSERTED and plainly_over(reading, mention)):
        return statuses
    kept = {factor_id: status for factor_id, status in statuses.items() if status != Status.ABSENT}
    if is_correction(reading.text):
        return {**{factor_id: Status.UNSURE for factor_id in statuses}, **kept}
    return kept


def recorded(policy: Policy, reading: Reading) -> set[Status]:
    """Every status the message's terms would record about the visitor."""
    return {status for m in reading.mentions for status in _statuses_in(policy, reading, m, ()).values()}


def late_addition(policy: Policy, screening: Screening, reading: Reading) -> Screening:
    """After the outcome: a message that adds to or takes back an earlier answer. Its terms count
    as in any message; if the screen can read nothing in it, a clinician goes through it (a
    correction towards healthy never lowers an outcome: statuses only move up)."""
    after = take_turn(policy, screening, reading, answering=False).screening
    if after == screening and adds_to_earlier_answer(reading.text):
        return after.with_status([TOLD_LATER], Status.UNSURE)
    return after


def take_turn(policy: Policy, screening: Screening, reading: Reading, answering: bool) -> Turn:
    """Applies one message. `answering`: the message is the reply to `screening.prompt`."""
    prompt = screening.prompt if answering else None
    confirming = prompt.factors if prompt and prompt.question is None else ()
    before = screening
    decided: set[str] = set()
    for mention in reading.mentions:
        statuses = _statuses_in(policy, reading, mention, confirming)
        for factor_id, status in statuses.items():
            screening = screening.with_status([factor_id], status, mention.text.lower())
        decided |= {factor_id for factor_id, status in statuses.items() if status != Status.PENDING}

    if prompt is not None:
        named = {f for f in decided & _about(policy, prompt) if screening.status(f) != before.status(f)}
        screening = _answer_prompt(policy, screening, prompt, reading, decided & set(prompt.factors), named)
    return Turn(screening, evaluate(policy, screening))


def _about(policy: Policy, prompt: Prompt) -> set[str]:
    """The factors a prompt is about: its own, and its question's others ("I had melanoma")."""
    question = policy.question(prompt.question).factors if prompt.question else ()
    return set(prompt.factors) | {f.id for f in question}


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


def side_question(reading: Reading) -> bool:
    """A question of the visitor's own in the middle of the screen ("does it hurt?"): answered,
    then the screen's question is asked again; nothing in it answers ours."""
    if reading.intent == "faq":
        return asks_a_question(reading.text)
    return reading.intent in SIDE_INTENTS and reading.answer is None  # "thanks", but not "no thanks"


def _answer_prompt(
    policy: Policy, screening: Screening, prompt: Prompt, reading: Reading, decided: set[str], named: set[str]
) -> Screening:
    """The reply's yes, no or not sure, for what the question asked and the mentions left open.

    `decided`: the asked factors the reply's own words settled ("yes, roaccutane"); `named`: what
    the reply newly told about the question's conditions ("I had melanoma 8 years ago").
    """
    rest = [f for f in prompt.factors if f not in decided]
    if side_question(reading) and prompt.asked < MOST_ASKED:
        return _again(screening, prompt, rest)  # answered on the side; our question is asked again
    if reading.answer == ShortAnswer.UNSURE:
        return screening.with_status(rest, Status.UNSURE).with_prompt(None)
    if prompt.question is None:
        return _answer_follow_up(policy, screening, prompt, reading, rest).with_prompt(None)
    if reading.answer == ShortAnswer.YES and not decided:
        return screening.with_status(rest, Status.PRESENT).with_prompt(None)
    denial = plain_denial(reading)
    if denial is not None and denial.general:
        return screening.with_status(rest, Status.ABSENT).with_prompt(None)
    if denial is not None or (named and reading.answer != ShortAnswer.NO):
        # "no diabetes", "yes, roaccutane", "I had melanoma 8 years ago": the rest is asked again
        return _again(screening, prompt, rest)
    return screening.with_status(rest, Status.PENDING).with_prompt(None)  # each asked on its own


def _again(screening: Screening, prompt: Prompt, rest: list[str]) -> Screening:
    """What is left of the question is asked once more; after that each open factor is asked on its
    own, so no visitor is asked the same question a third time."""
    if prompt.asked >= MOST_ASKED:
        return screening.with_status(rest, Status.PENDING).with_prompt(None)
    left = tuple(f for f in rest if screening.status(f) in (None, Status.PENDING))
    return screening.with_prompt(replace(prompt, factors=left) if left else None)


def _answer_follow_up(
    policy: Policy, screening: Screening, prompt: Prompt, reading: Reading, rest: list[str]
) -> Screening:
    """The answer to "Just to check: …" about one factor: a clear no, a yes, or else unsure."""
    if not rest:
        return screening
    factor = policy.factor(rest[0])
    harmless = [m for m in reading.mentions if _harmless(policy, reading, m)]
    if clear_no(factor, reading, harmless):
        return screening.with_status(rest, Status.ABSENT)
    if reading.answer == ShortAnswer.YES:
        return screening.with_status(rest, Status.PRESENT)
    return screening.with_status(rest, Status.UNSURE)


def _harmless(policy: Policy, reading: Reading, mention: Mention) -> bool:
    """A term that says nothing present or doubtful about the visitor: someone else's ("my
    husband has cancer"), plainly denied or over, or longer ago than its factor's window."""
    statuses = _statuses_in(policy, reading, mention, ())
    if any(status != Status.ABSENT for status in statuses.values()):
        return False
    if statuses or mention.who != "self" or mention.stance == Stance.DENIED:
        return True
    windows = [f.within_weeks for f, _ in policy.factors_for(mention.label, mention.value) if f.within_weeks]
    return bool(windows) and mention.ago_days is not None and mention.ago_days > max(windows) * 7


def ask_next(policy: Policy, screening: Screening) -> Screening:
    """The screening with its next question (or none) recorded as the one being answered."""
    current, upcoming = screening.prompt, next_prompt(policy, screening)
    if upcoming is None:
        return screening.with_prompt(None)
    if current is not None and current.asks_as(upcoming):
        return screening.with_prompt(replace(current, asked=current.asked + 1))  # the same question again
    return screening.with_prompt(replace(upcoming, asked=1))
