"""Decide the screening outcome from everything the visitor has told us. No Rasa import.

The rules, in order of priority:
1. Any factor present → its tier; the most cautious tier wins (not_suitable > clinician_review).
2. An unclear answer → clinician_review: an answer we could not read is never a "no".
3. `eligible` only when every question has a clear "no" and no factor is present.
   (A "yes" is recorded as the factors it means: see `record_answer`.)
4. Otherwise the screen is not finished (`outcome` is None).

Answers only accumulate: a later disclosure can add a factor but never remove one, so the
outcome can move away from `eligible` and never back to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from actions.screening.policy import Factor, Policy, Question, Tier


class Answer(str, Enum):
    """A visitor's answer to one screening question."""

    YES = "yes"  # yes, without saying which of the question's conditions
    NO = "no"
    UNCLEAR = "unclear"  # still unclear after one clarifying question, or "not sure"


UNCLEAR_PREFIX = "unclear:"


@dataclass(frozen=True)
class Screening:
    """What we know: factors found present, and the answers to the questions asked."""

    present: frozenset[str] = frozenset()
    absent: frozenset[str] = frozenset()
    answers: Mapping[str, Answer] = field(default_factory=dict)

    def with_findings(self, present: Iterable[str] = (), absent: Iterable[str] = ()) -> Screening:
        present = self.present | frozenset(present)
        # "Present" is sticky: a later "no" never un-discloses something.
        return Screening(present, (self.absent | frozenset(absent)) - present, self.answers)

    def with_answer(self, question_id: str, answer: Answer) -> Screening:
        """Records an answer; a "yes" or "unclear" is never replaced by a later "no"."""
        if self.answers.get(question_id) in (Answer.YES, Answer.UNCLEAR) and answer == Answer.NO:
            return self
        return Screening(self.present, self.absent, {**self.answers, question_id: answer})

    def to_slot(self) -> dict:
        return {
            "present": sorted(self.present),
            "absent": sorted(self.absent),
            "answers": {q: a.value for q, a in sorted(self.answers.items())},
        }

    @classmethod
    def from_slot(cls, value: Mapping | None) -> Screening:
        value = value or {}
        return cls(
            frozenset(value.get("present", [])),
            frozenset(value.get("absent", [])),
            {q: Answer(a) for q, a in (value.get("answers") or {}).items()},
        )


@dataclass(frozen=True)
class Outcome:
    tier: Tier | None  # None while the screen is unfinished and nothing rules anything out
    reasons: tuple[str, ...]  # factor ids, and "unclear:<question id>" for unreadable answers
    factors: tuple[Factor, ...]  # the factors behind the tier, for explanations

    @property
    def slot_value(self) -> str | None:
        return self.tier.slot_value if self.tier is not None else None

    @property
    def temporary(self) -> bool:
        """True when every reason for not_suitable passes with time (pregnancy, a tan …)."""
        blocking = [f for f in self.factors if f.tier == Tier.NOT_SUITABLE]
        return bool(blocking) and all(f.temporary for f in blocking)


def record_answer(policy: Policy, screening: Screening, question_id: str, answer: Answer) -> Screening:
    """Records an answer. A plain "yes" counts every condition the question asked about
    (except any the visitor has denied), fixed at that moment, so that naming one of them
    later only adds to what we know and can never make the outcome less cautious.
    """
    screening = screening.with_answer(question_id, answer)
    question = policy.question(question_id)
    if screening.answers.get(question_id) != Answer.YES or screening.present & {f.id for f in question.factors}:
        return screening
    asked = {f.id for f in question.factors if f.asked_by_question}
    return screening.with_findings(present=(asked - screening.absent) or asked)


def question_cleared(question: Question, screening: Screening) -> bool:
    """A clear "no", or every condition it asks about denied in the visitor's own words."""
    if screening.answers.get(question.id) == Answer.NO:
        return True
    return question.id not in screening.answers and all(
        f.id in screening.absent for f in question.factors if f.asked_by_question
    )


def evaluate(policy: Policy, screening: Screening) -> Outcome:
    factors = [f for f in policy.factors if f.id in screening.present]
    unclear = [q.id for q in policy.questions if screening.answers.get(q.id) == Answer.UNCLEAR]
    reasons = tuple([f.id for f in factors] + [UNCLEAR_PREFIX + q for q in unclear])

    if factors or unclear:
        tier = max([f.tier for f in factors] + ([Tier.CLINICIAN_REVIEW] if unclear else []))
        behind = tuple(f for f in factors if f.tier == tier) or tuple(factors)
        return Outcome(tier, reasons, behind)
    if all(question_cleared(q, screening) for q in policy.questions):
        return Outcome(Tier.ELIGIBLE, (), ())
    return Outcome(None, (), ())


def open_questions(policy: Policy, screening: Screening) -> list[str]:
    """Questions still to ask, in order: unanswered, and not already settled by a disclosure.

    Nothing is left to ask once the visitor is not suitable: a person who is pregnant is
    told so at once, not asked about their medicines.
    """
    if evaluate(policy, screening).tier == Tier.NOT_SUITABLE:
        return []
    return [
        q.id
        for q in policy.questions
        if q.id not in screening.answers
        and not question_cleared(q, screening)
        and not any(f.id in screening.present for f in q.factors)  # already a "yes" in their own words
    ]
