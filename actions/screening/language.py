"""A visitor's message as the screen reads it: its health mentions and its short answer.

Plain Python, no Rasa import. The spaCy pipeline (nlp/context.py) has already tagged each
clinical term with how it was said; this module turns those tags into `Mention`s and reads
the yes / no / not sure that answers the screen's question. Doubt is looked for first, so
"no, I'm not sure" is never taken for a "no".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

from nlp.text import normalise

HEALTH_LABELS = {"CONDITION", "MEDICATION"}
AFFIRM_INTENT = "affirm"
DENY_INTENT = "deny"


class Stance(str, Enum):
    """How a term was said. Only `asserted` and `denied` can decide anything on their own."""

    ASSERTED = "asserted"  # "I'm 5 months pregnant", "I had melanoma in 2015"
    DENIED = "denied"  # "I'm not pregnant", "never had cold sores"
    HEDGED = "hedged"  # "I might be pregnant", "I don't think it's eczema"
    ASKED = "asked"  # "what if I'm pregnant?", "can I tan before my laser?"


class ShortAnswer(str, Enum):
    YES = "yes"
    NO = "no"
    UNSURE = "unsure"


@dataclass(frozen=True)
class Mention:
    label: str  # CONDITION or MEDICATION
    value: str  # the pattern's id: "pregnancy", "isotretinoin"
    text: str  # as the visitor typed it
    stance: Stance
    who: str = "self"  # self, family, other
    when: str = "current"  # current, past, recurrent
    ended: bool = False  # "not anymore", "in remission": had it, and it is over
    ago_days: int | None = None  # how long ago, when the visitor said ("stopped a fortnight ago": 14)
    start: int = 0  # where it is in the visitor's text
    end: int = 0

    @classmethod
    def from_entity(cls, entity: Mapping) -> Mention:
        if entity.get("asked"):
            stance = Stance.ASKED
        elif entity.get("hedged"):
            stance = Stance.HEDGED
        elif entity.get("negated"):
            stance = Stance.DENIED
        else:
            stance = Stance.ASSERTED
        return cls(
            label=entity["entity"],
            value=entity["value"],
            text=str(entity.get("text") or entity["value"]),
            stance=stance,
            who=entity.get("who", "self"),
            when=entity.get("when", "current"),
            ended=bool(entity.get("ended")),
            ago_days=entity.get("ago_days"),
            start=int(entity.get("start") or 0),
            end=int(entity.get("end") or 0),
        )


@dataclass(frozen=True)
class Reading:
    """One message: what it says about health, and how it answers a yes/no question."""

    text: str
    intent: str | None
    mentions: tuple[Mention, ...]
    answer: ShortAnswer | None


_DOUBT = re.compile(
    r"\b(not sure|unsure|not certain|don'?t know|do not know|dunno|idk|no idea|maybe|might|possibly|"
    r"perhaps|probably|probs?|can'?t remember|cannot remember|not that i know|not that i'?m aware|i think so|"
    r"i guess|not 100)\b"
)
# Answer words that answer the question whatever else the message says ("no i get cold sores sometimes") ...
_NO = re.compile(r"^\W*(no+|n|nope|nah|na|not really|not at all|negative|definitely not|no way|not me)\b")
_YES = re.compile(r"^\W*(yes+|yeah|yea|yep|yup|ya|yh|y|correct|affirmative)\b")
# ... and replies that answer it only when they name nothing ("I'm not" does; "I'm not pregnant" is about pregnancy).
_BARE_NO = re.compile(
    r"^\W*(never|none|nothing|not anymore|i don'?t|i do not|i'?m not|i am not|i haven'?t|i have not|"
    r"don'?t think so|i don'?t think so)\b"
)
_BARE_YES = re.compile(r"^\W*(sure|i do|i am|i'?m afraid so|i have|i did|i take)\b")
_NOT_ME = re.compile(r"\bnot (me|mine|myself)\b")


def short_answer(text: str, intent: str | None, mentions: Iterable[Mention] = ()) -> ShortAnswer | None:
    """The yes, no or not-sure in a reply. Doubt that belongs to a hedged mention is the mention's."""
    said = " ".join(normalise(text).split())
    mentions = tuple(mentions)
    hedged_mention = any(m.stance == Stance.HEDGED for m in mentions)
    if _DOUBT.search(said) and not hedged_mention:
        return ShortAnswer.UNSURE
    named = bool(mentions)
    if _NO.search(said) or _NOT_ME.search(said) or (not named and _BARE_NO.search(said)):
        return ShortAnswer.NO
    if _YES.search(said) or (not named and _BARE_YES.search(said)):
        return ShortAnswer.YES
    if not named and intent == DENY_INTENT:
        return ShortAnswer.NO
    if not named and intent == AFFIRM_INTENT:
        return ShortAnswer.YES
    return None


def opening_answer(text: str) -> ShortAnswer | None:
    """The yes or no a message opens with ("no, my sister has diabetes though"), if any."""
    said = " ".join(normalise(text).split())
    if _NO.search(said):
        return ShortAnswer.NO
    if _YES.search(said):
        return ShortAnswer.YES
    return None


_CLOSING_YES = re.compile(r"\b(yes+|yeah|yep|yup)\W*$", re.IGNORECASE)
_CLOSING_NO = re.compile(r"\b(no+|nope|nah)\W*$", re.IGNORECASE)
_QUESTION = re.compile(
    r"\?|^\W*(how|what|when|where|why|which|who|does|do|can|could|is|are|will|would|should)\b", re.IGNORECASE
)
CLOSING_ANSWER_MAX_WORDS = 4


def asks_a_question(text: str) -> bool:
    """The visitor asks something ("does it hurt?", "how long is recovery") rather than telling."""
    return bool(_QUESTION.search(" ".join(normalise(text).split())))


def closing_answer(text: str) -> ShortAnswer | None:
    """The yes or no that ends a short statement ("an infection yes"), if any: not in a question."""
    said = " ".join(normalise(text).split())
    if len(said.split()) > CLOSING_ANSWER_MAX_WORDS or _QUESTION.search(said):
        return None
    if _CLOSING_NO.search(said):
        return ShortAnswer.NO
    if _CLOSING_YES.search(said):
        return ShortAnswer.YES
    return None


def mentions_in(entities: Iterable[Mapping]) -> tuple[Mention, ...]:
    """The health terms among a message's entities (the extractor also tags body areas and concerns)."""
    return tuple(Mention.from_entity(e) for e in entities if e.get("entity") in HEALTH_LABELS)


def read_message(text: str, intent: str | None, entities: Iterable[Mapping]) -> Reading:
    mentions = mentions_in(entities)
    return Reading(text, intent, mentions, short_answer(text, intent, mentions))
