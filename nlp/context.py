"""spaCy component: is a tagged condition denied, whose is it, and is it current?

Rules in the spirit of NegEx/ConText, kept small and explicit because the screen depends on
them. Each entity the ruler found gets three attributes:

- `ent._.negated`:    "I'm not pregnant", "no diabetes", "never had cold sores", "pregnant? no"
- `ent._.who`:        "self"; "family" ("my mum has vitiligo"); "other" ("my friend has …",
                      "is it safe for pregnant women?", "what if I'm pregnant?")
- `ent._.when`:       "current"; "past" ("melanoma 8 years ago, in remission");
                      "recurrent" ("I get cold sores a few times a year")

A cue only reaches across its own clause. Clauses end at sentence punctuation and at "but",
"however" …; a comma or "and" ends one too, unless a list of conditions continues
("no diabetes, cancer or psoriasis"). When cues disagree the rules lean to caution: a self
cue beats a family cue, a current cue beats a past one, and doubt ("not sure if I'm
pregnant") is never read as a denial.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc, Span

HARD_BOUNDARIES = {".", ";", "!", "?", "but", "however", "although", "though", "whereas", "except", "apart"}
SOFT_BOUNDARIES = {",", "and", "so", "because", "-", "–", "also"}
LIST_WORDS = {"or", "nor", "and", ",", "a", "an", "any", "no", "some"}

NEGATIONS = {"no", "not", "n't", "nt", "never", "without", "none", "nor", "neither", "nope", "nah", "negative"}
POST_NEGATIONS = {"no", "nope", "never", "none", "negative", "nah"}
DOUBT = {"sure", "unsure", "know", "maybe", "might", "possibly", "perhaps", "could", "idk", "think", "suspect"}
HYPOTHETICAL = {"if", "whether", "what", "suppose"}
NEGATION_WINDOW = 6

SELF = {"i", "me", "myself", "im", "i'm", "i've", "ive", "i'd", "we", "us"}
FAMILY = {
    "mum", "mom", "mother", "mam", "mummy", "mommy", "dad", "father", "daddy", "sister", "brother",
    "siblings", "sibling", "grandmother", "grandma", "granny", "nan", "nana", "grandfather",
    "grandpa", "grandparents", "grandparent", "aunt", "auntie", "aunty", "uncle", "cousin", "son",
    "daughter", "family", "relative", "relatives", "parents", "parent", "twin", "runs",
}  # fmt: skip
OTHERS = {
    "husband", "wife", "partner", "boyfriend", "girlfriend", "friend", "friends", "colleague",
    "neighbour", "neighbor", "she", "he", "they", "her", "his", "people", "person", "someone",
    "somebody", "anyone", "anybody", "women", "woman", "men", "man", "patients", "patient",
    "clients", "those", "diabetics", "you",
}  # fmt: skip

PAST = {
    "ago", "had", "used", "previously", "past", "remission", "former", "formerly", "survivor",
    "recovered", "cured", "was", "were", "stopped", "finished", "quit", "cleared", "longer",
    "anymore", "last", "history", "once", "treated",
}  # fmt: skip
RECURRENT = {
    "get", "gets", "getting", "prone", "sometimes", "occasionally", "often", "usually", "tend",
    "regularly", "times", "every", "recurring", "recurrent", "outbreaks", "flare", "flares", "odd",
}  # fmt: skip
CURRENT = {"currently", "now", "still", "since", "today", "moment", "weeks", "months", "trimester", "due", "on"}

for _name, _default in (("negated", False), ("who", "self"), ("when", "current")):
    if not Span.has_extension(_name):
        Span.set_extension(_name, default=_default)


def _lower(doc: Doc, i: int) -> str:
    return doc[i].lower_


def _starts_entity(doc: Doc, i: int, starts: set[int]) -> bool:
    """Token i begins a condition, perhaps after a list word ("or any psoriasis")."""
    for j in range(i, min(i + 3, len(doc))):
        if j in starts:
            return True
        if _lower(doc, j) not in LIST_WORDS:
            return False
    return False


def _is_boundary(doc: Doc, i: int, starts: set[int]) -> bool:
    word = _lower(doc, i)
    if word in HARD_BOUNDARIES:
        return True
    return word in SOFT_BOUNDARIES and not _starts_entity(doc, i + 1, starts)


def clause(doc: Doc, ent: Span, starts: set[int]) -> tuple[int, int]:
    """Token range [start, end) of the clause around `ent`."""
    start = ent.start
    while start > 0 and not _is_boundary(doc, start - 1, starts):
        start -= 1
    end = ent.end
    while end < len(doc) and not _is_boundary(doc, end, starts):
        end += 1
    return start, end


def _words(doc: Doc, start: int, end: int) -> set[str]:
    return {_lower(doc, i) for i in range(start, end)}


def _doubtful(words: set[str]) -> bool:
    return bool(words & DOUBT) or {"no", "idea"} <= words


def post_negation(doc: Doc, ent: Span) -> int | None:
    """Index of a short answer right after the term ("pregnant? no", "diabetes - none")."""
    after = [i for i in range(ent.end, min(len(doc), ent.end + 3)) if not doc[i].is_punct]
    if not after or _lower(doc, after[0]) not in POST_NEGATIONS:
        return None
    following = after[0] + 1
    if following < len(doc) and not (doc[following].is_punct or _lower(doc, following) in HARD_BOUNDARIES):
        return None  # "no idea", "none of your business": not a short answer
    return after[0]


def _negated(doc: Doc, ent: Span, start: int, end: int, answers: set[int]) -> bool:
    if _doubtful(_words(doc, start, end)):
        return False  # "not sure if I'm pregnant" is doubt, not a denial
    window = range(max(start, ent.start - NEGATION_WINDOW), ent.start)
    before = {_lower(doc, i) for i in window if i not in answers}  # another term's "no" is not ours
    if before & NEGATIONS and not before & {"longer", "anymore"}:
        return True
    return post_negation(doc, ent) is not None


def _who(words: set[str]) -> str:
    if words & SELF:
        return "self"
    if words & FAMILY:
        return "family"
    if words & (OTHERS | HYPOTHETICAL) and not _doubtful(words):
        return "other"
    return "self"


def _when(words: set[str]) -> str:
    if "ago" in words:
        words = words - {"weeks", "months"}  # "2 weeks ago" is past, "12 weeks pregnant" is now
    if words & CURRENT:
        return "current"
    if words & RECURRENT:
        return "recurrent"
    if words & PAST:
        return "past"
    return "current"


@Language.component("clinical_context")
def clinical_context(doc: Doc) -> Doc:
    """Sets `negated`, `who` and `when` on every entity in `doc.ents`."""
    starts = {ent.start for ent in doc.ents}
    answers = {i for ent in doc.ents if (i := post_negation(doc, ent)) is not None}
    for ent in doc.ents:
        start, end = clause(doc, ent, starts)
        words = _words(doc, start, end) - _words(doc, ent.start, ent.end)
        ent._.negated = _negated(doc, ent, start, end, answers)
        ent._.who = _who(words)
        ent._.when = _when(words)
    return doc
