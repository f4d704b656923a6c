"""Decide the screening outcome from what the visitor has told us. No Rasa import.

What we know is kept per factor of the policy, as one of four statuses ordered by caution:

    absent   < a plain "no", or a plain denial in their own words (screening/answers.py)
    pending  < open: mentioned in a way that doesn't decide ("I think I might be …"), or left
               open by a reply that was more than a plain no ("no, but my mum has it"): ask
    unsure   < "not sure", or an unclear answer to the question about that factor alone
    present    a plain statement or a clear "yes"

The rules, in order of priority:
1. Any factor present → its tier; the most cautious tier wins (not_suitable > clinician_review).
2. Anything unsure or still pending → clinician_review: doubt is never a "no", and a reading
   nobody confirmed never ends `eligible`.
3. `eligible` only when every factor the questions ask about is absent.
4. Otherwise the screen is not finished (`outcome` is None).

A status only moves up that order, with one exception: a clear "no" settles a pending
mention (that is what the confirmation question is for). So disclosures and answers only
make the outcome more cautious; only the visitor's own clear "no" to a confirmation undoes
a doubt the assistant raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum

from actions.screening.policy import Factor, Policy, Tier


class Status(str, Enum):
    ABSENT = "absent"
    PENDING = "pending"
    UNSURE = "unsure"
    PRESENT = "present"

    @property
    def rank(self) -> int:
        return list(Status).index(self)


UNCLEAR_PREFIX = "unclear:"


@dataclass(frozen=True)
class Prompt:
    """The screen's question waiting for an answer, and the factors a yes/no to it decides."""

    factors: tuple[str, ...]
    question: str | None = None  # the policy question it comes from; None for a follow-up about one factor
    asked: int = 0  # how many times the visitor has been shown it (core.ask_next)

    def asks_as(self, other: Prompt) -> bool:
        return (self.factors, self.question) == (other.factors, other.question)

    def to_slot(self) -> dict:
        return {"factors": list(self.factors), "question": self.question, "asked": self.asked}

    @classmethod
    def from_slot(cls, value: Mapping | None) -> Prompt | None:
        if not value:
            return None
        return cls(tuple(value["factors"]), value.get("question"), int(value.get("asked") or 0))


@dataclass(frozen=True)
class Screening:
    """Everything the visitor told us, per factor, and the question they are answering."""

    statuses: Mapping[str, Status] = field(default_factory=dict)
    noted: Mapping[str, str] = field(default_factory=dict)  # factor id -> the visitor's own word for it
    prompt: Prompt | None = None

    def status(self, factor_id: str) -> Status | None:
        return self.statuses.get(factor_id)

    def with_status(self, factor_ids: Iterable[str], status: Status, word: str | None = None) -> Screening:
        statuses, noted = dict(self.statuses), dict(self.noted)
        for factor_id in factor_ids:
            old = statuses.get(factor_id)
            settles_doubt = old == Status.PENDING and status == Status.ABSENT
            if old is None or status.rank > old.rank or settles_doubt:
                statuses[factor_id] = status
                if word and status == Status.PRESENT:
                    noted[factor_id] = word
        return replace(self, statuses=statuses, noted=noted)

    def with_prompt(self, prompt: Prompt | None) -> Screening:
        return replace(self, prompt=prompt)

    def to_slot(self) -> dict:
        return {
            "factors": {f: s.value for f, s in sorted(self.statuses.items())},
            "noted": dict(sorted(self.noted.items())),
            "prompt": self.prompt.to_slot() if self.prompt else None,
        }

    @classmethod
    def from_slot(cls, value: Mapping | None) -> Screening:
        value = value or {}
        return cls(
            {f: Status(s) for f, s in (value.get("factors") or {}).items()},
            dict(value.get("noted") or {}),
            Prompt.from_slot(value.get("prompt")),
        )


@dataclass(frozen=True)
class Outcome:
    tier: Tier | None  # None while the screen is unfinished and nothing rules anything out
    reasons: tuple[str, ...]  # factor ids, and "unclear:<factor id>" for doubts
    factors: tuple[Factor, ...]  # the factors behind the tier, for explanations

    @property
    def slot_value(self) -> str | None:
        return self.tier.slot_value if self.tier is not None else None

    @property
    def unclear(self) -> bool:
        return any(reason.startswith(UNCLEAR_PREFIX) for reason in self.reasons)

    @property
    def temporary(self) -> bool:
        """True when every reason for not_suitable passes with time (pregnancy, a tan …)."""
        blocking = [f for f in self.factors if f.tier == Tier.NOT_SUITABLE]
        return bool(blocking) and all(f.temporary for f in blocking)


def evaluate(policy: Policy, screening: Screening) -> Outcome:
    present = [f for f in policy.factors if screening.status(f.id) == Status.PRESENT]
    doubtful = [f for f in policy.factors if screening.status(f.id) in (Status.UNSURE, Status.PENDING)]
    reasons = tuple([f.id for f in present] + [UNCLEAR_PREFIX + f.id for f in doubtful])

    if present or doubtful:
        tier = max([f.tier for f in present] + ([Tier.CLINICIAN_REVIEW] if doubtful else []))
        behind = tuple(f for f in present if f.tier == tier) or tuple(present)
        return Outcome(tier, reasons, behind)
    asked = [f for q in policy.questions for f in q.asked]
    if all(screening.status(f.id) == Status.ABSENT for f in asked):
        return Outcome(Tier.ELIGIBLE, (), ())
    return Outcome(None, (), ())


def next_prompt(policy: Policy, screening: Screening) -> Prompt | None:
    """What to ask next: doubts to confirm first, then what each question still doesn't know.

    Nothing is left to ask once the visitor is not suitable: a person who is pregnant is
    told so at once, not asked about their medicines.
    """
    if evaluate(policy, screening).tier == Tier.NOT_SUITABLE:
        return None
    for factor in policy.factors:
        if screening.status(factor.id) == Status.PENDING:
            return Prompt((factor.id,))
    for question in policy.questions:
        unknown = tuple(f.id for f in question.asked if screening.status(f.id) is None)
        if unknown:
            return Prompt(unknown, question.id)
    return None
