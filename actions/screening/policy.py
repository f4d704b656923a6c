"""The screening policy (policy.yml) as checked, immutable Python objects.

Plain Python: the evaluator, the language rules and the tests use it without Rasa. Loading
fails loudly on anything a reviewer could get wrong (an unknown tier, a factor pointing at a
missing question, a missing source), because a silently ignored line in a safety policy is
worse than a refusal to start.
"""

from __future__ import annotations

from collections.abc import Iterable
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
    # Evidence of the factor rather than its name (insulin for diabetes): taking it shows the
    # factor, but "not on insulin" says nothing about diabetes.
    indirect: bool = False


@dataclass(frozen=True)
class Factor:
    id: str
    tier: Tier
    explanation: str
    source: str
    matches: tuple[Match, ...]
    question: str | None = None
    asked_by_question: bool = True
    asked_as: str = ""  # its phrase in the question's `ask` template
    confirm: str = ""  # its own yes/no question, for factors no question asks about
    temporary: bool = False
    come_back: str = ""
    # A past mention counts only this recently ("a tan or sunburn from the last 6 weeks"); a
    # past mention whose time nobody stated has to be asked about.
    within_weeks: int | None = None

    @property
    def counts_past(self) -> bool:
        """Whether something over and done with still matters (keloids: yes; pregnancy: no)."""
        return any("past" in m.when for m in self.matches)

    @property
    def family_counts(self) -> bool:
        return any("family" in m.who for m in self.matches)


def spoken_list(items: list[str]) -> str:
    """ "a", "a or b", "a, b, or c" (the comma keeps parts that contain "or" apart)."""
    if len(items) <= 2:
        return " or ".join(items)
    return ", ".join(items[:-1]) + ", or " + items[-1]


@dataclass(frozen=True)
class Question:
    id: str
    ask: str  # a template with {} for the asked factors' phrases
    factors: tuple[Factor, ...]

    @property
    def asked(self) -> tuple[Factor, ...]:
        """The factors a plain "yes" or "no" to this question answers."""
        return tuple(f for f in self.factors if f.asked_by_question)

    @property
    def text(self) -> str:
        return self.asking(f.id for f in self.asked)

    def asking(self, factor_ids: Iterable[str]) -> str:
        """The question about just these factors, in the policy's order."""
        wanted = set(factor_ids)
        return self.ask.format(spoken_list([f.asked_as for f in self.asked if f.id in wanted]))

    @property
    def tier(self) -> Tier:
        """What a plain "yes" to this question means: the most cautious of its factors."""
        return max(f.tier for f in self.asked)


@dataclass(frozen=True)
class Policy:
    version: int
    questions: tuple[Question, ...]
    factors: tuple[Factor, ...]

    def factor(self, factor_id: str) -> Factor:
        return next(f for f in self.factors if f.id == factor_id)

    def question(self, question_id: str) -> Question:
        return next(q for q in self.questions if q.id == question_id)

    def confirmation(self, factor: Factor) -> str:
        """A yes/no question about one factor: its own, or its part of its question."""
        if factor.confirm:
            return factor.confirm
        return self.question(factor.question).asking([factor.id])

    def factors_for(self, entity: str, value: str) -> tuple[tuple[Factor, Match], ...]:
        """Every factor a tagged term can mean, with the rule that says how."""
        return tuple((f, m) for f in self.factors for m in f.matches if (m.entity, m.value) == (entity, value))


def _match(raw: dict, where: str) -> Match:
    who = frozenset(raw.get("who", ["self"]))
    when = frozenset(raw.get("when", ["current"]))
    if not who <= WHO or not when <= WHEN or not raw.get("entity") or not raw.get("value"):
        raise PolicyError(f"{where}: a match needs entity and value; who ⊆ {sorted(WHO)}, when ⊆ {sorted(WHEN)}")
    return Match(raw["entity"], raw["value"], who, when, bool(raw.get("indirect", False)))


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
    asked = raw.get("question") is not None and raw.get("asked_by_question", True)
    if asked and not raw.get("asked_as"):
        raise PolicyError(f"{where}: 'asked_as' is missing (its words in the question)")
    if not asked and not raw.get("confirm"):
        raise PolicyError(f"{where}: 'confirm' is missing (a yes/no question about it alone)")
    within = raw.get("within_weeks")
    if within is not None and not (isinstance(within, int) and within > 0):
        raise PolicyError(f"{where}: 'within_weeks' must be a whole number of weeks")
    return Factor(
        id=raw["id"],
        tier=Tier.parse(raw["tier"]),
        explanation=" ".join(str(raw["explanation"]).split()),
        source=str(raw["source"]),
        matches=tuple(_match(m, where) for m in raw["matches"]),
        question=raw.get("question"),
        asked_by_question=bool(raw.get("asked_by_question", True)),
        asked_as=" ".join(str(raw.get("asked_as", "")).split()),
        confirm=" ".join(str(raw.get("confirm", "")).split()),
        temporary=bool(raw.get("temporary", False)),
        come_back=str(raw.get("come_back", "")),
        within_weeks=within,
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
        if str(q.get("ask", "")).count("{}") != 1:
            raise PolicyError(f"question '{q['id']}': 'ask' needs exactly one {{}} for its conditions")
        questions.append(Question(q["id"], " ".join(str(q["ask"]).split()), own))
    return Policy(int(raw["version"]), tuple(questions), factors)


@cache
def default_policy() -> Policy:
    """The policy shipped in policy.yml, loaded once per process."""
    return load_policy()
