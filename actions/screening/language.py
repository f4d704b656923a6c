"""From what the visitor wrote to screening findings. Plain Python, no Rasa import.

The spaCy pipeline has already tagged the terms and their context (nlp/context.py); this
module applies the policy's match rules to those tags and reads yes/no answers. Doubt is
checked before anything else, so "not sure" can never be taken for a "no".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from actions.screening.evaluator import Answer
from actions.screening.policy import Policy, Question

AFFIRM_INTENT = "affirm"
DENY_INTENT = "deny"
_DOUBT = re.compile(
    r"\b(not sure|unsure|not certain|don'?t know|do not know|dunno|idk|no idea|maybe|might|possibly|"
    r"perhaps|can'?t remember|cannot remember|not that i know)\b"
)


@dataclass(frozen=True)
class Findings:
    present: frozenset[str] = frozenset()
    absent: frozenset[str] = frozenset()


def findings(policy: Policy, entities: Iterable[Mapping]) -> Findings:
    """Factors the tagged terms mean: present, or explicitly denied ("I'm not pregnant")."""
    present: set[str] = set()
    absent: set[str] = set()
    for entity in entities:
        who = entity.get("who", "self")
        when = entity.get("when", "current")
        for factor in policy.factors:
            for match in factor.matches:
                if match.entity != entity.get("entity") or match.value != entity.get("value"):
                    continue
                if who not in match.who:
                    continue  # "my sister has diabetes" says nothing about the visitor
                if entity.get("negated"):
                    if "current" in match.when or when in match.when:
                        absent.add(factor.id)
                elif when in match.when:
                    present.add(factor.id)
    return Findings(frozenset(present), frozenset(absent - present))


def is_doubtful(text: str) -> bool:
    return bool(_DOUBT.search(text.lower().replace("’", "'")))


def read_answer(question: Question, intent: str | None, text: str, found: Findings) -> Answer | None:
    """The visitor's answer to `question`, or None when it can't be read (ask again once)."""
    if is_doubtful(text):
        return Answer.UNCLEAR
    own = {f.id for f in question.factors}
    if own & found.present:
        return Answer.YES
    if intent == AFFIRM_INTENT:
        return Answer.YES
    if intent == DENY_INTENT:
        return Answer.NO
    asked = {f.id for f in question.factors if f.asked_by_question}
    if asked and asked <= found.absent:
        return Answer.NO
    return None
