"""The screen's language corpus: every term of every factor in every way it is said.

Each term of the pattern files that a policy factor matches is put into templates for each
way a visitor says something: their own condition now, recurring, in the past, ended; a
denial; doubt; a question or hypothetical; a family member's; someone else's. Each phrasing is
read by production code (tests/screening/reader.py) and checked against the safety properties:

- own current or recurrent → never read as absent, and never missed;
- a question or hypothetical, or someone else's condition → never read as present;
- doubt → never read as absent ("not sure" is never a "no");
- a denial → never read as present.

`python -m tests.screening.corpus` prints the report that `make test` shows.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from actions.screening.evaluator import Status
from actions.screening.policy import default_policy
from nlp.build_pipeline import load_patterns
from nlp.context import PAST_FORMS
from tests.screening.reader import turn

# Ways of saying it, each with the ways of writing it the corpus rotates through.
TEMPLATES: dict[str, list[str]] = {
    "own_current": [
        "i have {t}", "yes, {t}", "yes {t}", "I've got {t} at the moment", "currently {t}",
        "{t} right now", "hi, {t} here. can I get laser?", "well i have {t}", "I have {t}, does it hurt?",
        "YES {t}!!", "me: {t}", "no, i have {t}", "Im on {t}", "still {t}", "have {t} on my face",
        "got {t}", "yeah have {t}",
    ],
    "own_recurrent": [
        "i get {t} sometimes", "no i get {t} sometimes", "I get {t} from time to time", "i often get {t}",
        "prone to {t}", "i get {t} every winter", "no, just {t} now and then, i get them",
    ],
    "own_past": [
        "i had {t} years ago", "I had {t} in 2015", "had {t} a long time ago", "I was treated for {t} before",
        "was {t} last year", "did have {t} years ago",
    ],
    "ended": [
        "I don't have {t} anymore", "i used to have {t}", "no longer have {t}", "i dont have {t} any more",
        "had {t} but I'm in remission",
    ],
    "denied": [
        "no {t}", "no, {t}", "not {t}", "I don't have {t}", "never had {t}", "i dont have {t}",
        "no {t} at all", "{t}? no", "{t} - none", "nope no {t}", "I'm not {t}", "I do not have any {t}",
    ],
    "doubt": [
        "not sure if i have {t}", "I might have {t}", "maybe {t}?", "i think i have {t}", "possibly {t}, not sure",
        "I don't think I have {t}", "not sure about {t}", "idk if its {t}", "could be {t}, I can't remember",
    ],
    "question": [
        "can i have laser if i have {t}?", "what if I have {t}?", "is it safe with {t}?", "does it help {t}",
        "do you treat people with {t}?", "can I get it done while {t}", "is laser ok for someone with {t}",
        "what about {t}?", "Is it a problem if I have {t}", "can people with {t} have it",
        "would {t} be an issue?",
    ],
    "family": ["my mum has {t}", "my sister had {t}", "{t} runs in my family", "hi, my dad has {t}"],
    "other": [
        "my husband has {t}", "my friend has {t}", "not me, my partner has {t}", "my wife is on {t}",
        "{t}? not me, my husband",
    ],
}  # fmt: skip


@dataclass(frozen=True)
class Phrasing:
    text: str
    term: str  # the pattern entry id the text mentions
    way: str  # a key of TEMPLATES


def policy_terms() -> dict[str, list[str]]:
    """Every pattern term that some policy factor can mean, by its entry id."""
    policy = default_policy()
    wanted = {(m.entity, m.value) for f in policy.factors for m in f.matches}
    terms: dict[str, list[str]] = {}
    for pattern in load_patterns():
        if (pattern["label"], pattern["id"]) in wanted:
            terms.setdefault(str(pattern["id"]), []).append(str(pattern["pattern"]))
    return terms


# A way of saying it that only some conditions have: cold sores recur, pregnancies don't.
NEEDS_TIME = {"own_recurrent": "recurrent", "own_past": "past", "ended": "past"}


# Present-tense ways of saying it, which a term in the past tense ("breastfed") cannot fill:
# "I have breastfed" says it happened, not that it goes on (nlp/context.py, PAST_FORMS).
PRESENT_TENSE = {"own_current", "own_recurrent"}


def ways_for(term_id: str, term: str = "") -> list[str]:
    times = {when for _, match in default_policy().factors_for(_label(term_id), term_id) for when in match.when}
    ways = [way for way in TEMPLATES if NEEDS_TIME.get(way, "current") in times]
    return [way for way in ways if not (term.lower() in PAST_FORMS and way in PRESENT_TENSE)]


def phrasings() -> Iterator[Phrasing]:
    """Each term in every way of saying it that fits it, rotating through each way's templates."""
    for term_id, terms in policy_terms().items():
        for index, term in enumerate(terms):
            for way in ways_for(term_id, term):
                template = TEMPLATES[way][index % len(TEMPLATES[way])]
                yield Phrasing(template.format(t=term), term_id, way)


def misreading(text: str, term: str, way: str) -> str | None:
    """What is wrong with how the screen reads `text`, or None when it is read safely."""
    found = turn(text).screening
    policy = default_policy()
    factors = {f.id for f, _ in policy.factors_for(_label(term), term)}
    statuses = {found.status(f) for f in factors} - {None}
    if way in ("own_current", "own_recurrent"):
        if Status.ABSENT in statuses:
            return "own condition read as absent"
        if not statuses:
            return "own condition missed"
    if way in ("question", "other") and Status.PRESENT in statuses:
        return "question or someone else's condition read as present"
    if way == "family" and any(found.status(f) == Status.PRESENT for f in factors if f != "vitiligo_family"):
        return "family member's condition read as the visitor's"
    if way == "doubt" and Status.ABSENT in statuses:
        return "doubt read as no"
    if way == "denied" and Status.PRESENT in statuses:
        return "denial read as present"
    return None


def _label(term: str) -> str:
    policy = default_policy()
    return next(m.entity for f in policy.factors for m in f.matches if m.value == term)


def run() -> tuple[int, list[tuple[Phrasing, str]]]:
    corpus = list(phrasings())
    wrong = [(p, problem) for p in corpus if (problem := misreading(p.text, p.term, p.way))]
    return len(corpus), wrong


def main() -> int:
    size, wrong = run()
    print(f"Screening language corpus: {size} phrasings, {len(wrong)} misreadings.")
    for problem, count in Counter(problem for _, problem in wrong).most_common():
        print(f"  {count:4d}  {problem}")
    for phrasing, problem in wrong[:40]:
        print(f"  - {phrasing.text!r} ({phrasing.term}, {phrasing.way}): {problem}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
