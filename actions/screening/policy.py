"""The screening policy (policy.yml) as checked, immutable Python objects.

Plain Python: the evaluator, the language rules and the tests use it without Rasa. Loading
fails loudly on anything a reviewer could get wrong (an unknown tier, a factor pointing at a
missing question, a missing source), because a silently ignored line in a safety policy is
worse than a refusal to start.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from pathlib import Path

import yaml

POLICY_PATH = Path(__file__).resolve().with_name("policy.yml")
WHO = {"self", "family", "other"}
WHEN = {"current", "past", "recurrent"}


class Tier(IntEnum):
    """Screening outcomes, ordered by caution: a higher tier always wins."""

    ELIGIBLE = 0
    CLINICIAN_REVIEW = 1
    NOT_SUITABLE = 2

    @property
    def slot_value(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Tier:
        return cls[value.upper()]


class PolicyError(ValueError):
    """policy.yml does not describe a usable policy; the message names the entry."""


@dataclass(frozen=True)
class Match:
    """A tagged term that means this factor: entity label and id, whose, and when."""

    entity: str
    value: str
    who: frozenset[str] = frozenset({"self"})
    when: frozenset[str] = frozenset({"current"})


@dataclass(frozen=True)
class Factor:
    id: str
    tier: Tier
    explanation: str
    source: str
    matches: tuple[Match, ...]
    question: str | None = None
    asked_by_question: bool = True
    temporary: bool = False
    come_back: str = ""


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    factors: tuple[Factor, ...]

    @property
    def tier(self) -> Tier:
        """What a plain "yes" to this question means: the most cautious of its factors."""
        return max(f.tier for f in self.factors if f.asked_by_question)


@dataclass(frozen=True)
class Policy:
    version: int
    questions: tuple[Question, ...]
    factors: tuple[Factor, ...]

    def factor(self, factor_id: str) -> Factor:
        return next(f for f in self.factors if f.id == factor_id)

    def question(self, question_id: str) -> Question:
        return next(q for q in self.questions if q.id == question_id)


def _match(raw: dict, where: str) -> Match:
    who = frozenset(raw.get("who", ["self"]))
    when = frozenset(raw.get("when", ["current"]))
    if not who <= WHO or not when <= WHEN or not raw.get("entity") or not raw.get("value"):
        raise PolicyError(f"{where}: a match needs entity and value; who ⊆ {sorted(WHO)}, when ⊆ {sorted(WHEN)}")
    return Match(raw["entity"], raw["value"], who, when)


def _factor(raw: dict, question_ids: set[str]) -> Factor:
    where = f"factor '{raw.get('id')}'"
    for key in ("id", "tier", "explanation", "source", "matches"):
        if not raw.get(key):
            raise PolicyError(f"{where}: '{key}' is missing")
    if raw["tier"] not in ("not_suitable", "clinician_review"):
        raise PolicyError(f"{where}: tier must be not_suitable or clinician_review, not '{raw['tier']}'")
    if raw.get("question") is not None and raw["question"] not in question_ids:
        raise PolicyError(f"{where}: question '{raw['question']}' is not defined")
    if raw.get("temporary") and not raw.get("come_back"):
        raise PolicyError(f"{where}: a temporary factor needs 'come_back' (when to come back)")
    return Factor(
        id=raw["id"],
        tier=Tier.parse(raw["tier"]),
        explanation=" ".join(str(raw["explanation"]).split()),
        source=str(raw["source"]),
        matches=tuple(_match(m, where) for m in raw["matches"]),
        question=raw.get("question"),
        asked_by_question=bool(raw.get("asked_by_question", True)),
        temporary=bool(raw.get("temporary", False)),
        come_back=str(raw.get("come_back", "")),
    )


def load_policy(path: Path = POLICY_PATH) -> Policy:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    question_ids = [q["id"] for q in raw["questions"]]
    if len(set(question_ids)) != len(question_ids):
        raise PolicyError("question ids must be unique")
    factors = tuple(_factor(f, set(question_ids)) for f in raw["factors"])
    if len({f.id for f in factors}) != len(factors):
        raise PolicyError("factor ids must be unique")
    questions = []
    for q in raw["questions"]:
        own = tuple(f for f in factors if f.question == q["id"])
        if not any(f.asked_by_question for f in own):
            raise PolicyError(f"question '{q['id']}' has no factor that a 'yes' to it means")
        questions.append(Question(q["id"], " ".join(str(q["text"]).split()), own))
    return Policy(int(raw["version"]), tuple(questions), factors)


@cache
def default_policy() -> Policy:
    """The policy shipped in policy.yml, loaded once per process."""
    return load_policy()
