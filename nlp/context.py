"""spaCy component: how each tagged condition is said. Denied? Doubted? Asked about? Whose? When?

Rules in the spirit of NegEx/ConText, kept small and explicit because the screen depends on
them. Each entity the ruler found gets these attributes:

- `ent._.negated`:  "I'm not pregnant", "no diabetes", "never had cold sores", "pregnant? no"
- `ent._.hedged`:   "I might be pregnant", "not sure if it's eczema", "I don't think I'm pregnant"
- `ent._.asked`:    a question or a hypothetical, not a statement: "can I tan before my laser?",
                    "what if I'm pregnant?", "is it safe while breastfeeding?"
- `ent._.ended`:    had it, and says it is over: "not anymore", "no longer", "used to", "in remission"
- `ent._.who`:      "self"; "family" ("my mum has vitiligo"); "other" ("my friend has …",
                    "people with diabetes", "not me, my husband")
- `ent._.when`:     "current"; "past" ("melanoma 8 years ago"); "recurrent" ("I get cold sores
                    a few times a year")
- `ent._.ago_days`: how long ago, when the clause (else the sentence after it) says: "stopped
                    sunbeds a fortnight ago" is 14; None when no time is stated (nlp/durations.py)

The rules find every mention (high recall) and say how sure the wording is; they decide
nothing. The screen (actions/screening/core.py) lets only a plain statement or a clear answer
decide, and asks about everything else.

A cue only reaches across its own clause. Clauses end at sentence punctuation, at "but",
"however" … and at a correction ("no - wait, sorry, I AM breastfeeding": the "no" is taken
back); a comma or "and" ends one too, unless a list of conditions continues ("no diabetes,
cancer or psoriasis"). A "no" or "yes" that opens the message and is followed
by a new clause ("no i get cold sores sometimes") answers the question; it negates nothing.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc, Span

from nlp.durations import days_ago
from nlp.people import FAMILY, NON_BLOOD, OTHERS, SELF

HARD_BOUNDARIES = {
    ".", ";", ":", "!", "?", "but", "however", "although", "though", "whereas", "except", "apart",
    "wait", "sorry", "actually", "oops", "misread", "correction",
}  # fmt: skip
SOFT_BOUNDARIES = {",", "and", "so", "because", "-", "–", "—", "also", "just", "only", "besides"}
HYPHENS = {"-", "–"}
LINKING = {
    "is",
    "are",
    "'s",
    "s",
    "was",
    "were",
    "has",
    "have",
    "been",
    "always",
    "all",
    "totally",
    "perfectly",
    "completely",
}
REASSURED = {"fine", "normal", "healthy", "ok", "okay", "perfect", "good"}
# "I burn rather than tan": the term is set aside, as a negation would.
CONTRASTS = [("rather", "than"), ("instead", "of")]
LIST_WORDS = {"or", "nor", "and", ",", "a", "an", "any", "no", "some"}

NEGATIONS = {
    "no", "not", "n't", "nt", "never", "without", "none", "nor", "neither", "nope", "nah", "negative",
    "nothing", "free",
    # contractions the tokenizer leaves whole (upper case, missing apostrophes)
    "don't", "dont", "doesn't", "doesnt", "didn't", "didnt", "haven't", "havent", "hasn't", "hasnt",
    "isn't", "isnt", "aren't", "arent", "wasn't", "wasnt",
}  # fmt: skip
POST_NEGATIONS = {"no", "nope", "never", "none", "negative", "nah"}
FILLERS = {"lol", "haha", "thanks", "thx", "ty", "x", "xx", "sorry", "thank", "pls", "please"}
NEGATION_WINDOW = 6

# Short answers that open a message; followed by a new clause they answer, they don't negate.
ANSWER_WORDS = {"no", "nope", "nah", "yes", "yeah", "yep", "yup", "ya", "yh", "ok", "well", "hmm", "um"}
CLAUSE_STARTS = {
    "i", "i'm", "im", "ive", "i've", "id", "my", "we", "me", "but", "just", "only", "though", "actually",
    "apart", "except", "although", "well", "not", "its", "it", "it's", "there", "sometimes", "occasionally",
}  # fmt: skip

DOUBT_WORDS = {
    "unsure", "maybe", "might", "possibly", "perhaps", "probably", "idk", "dunno", "suspect", "guess",
    "think", "could", "unclear", "borderline", "wondering",
}  # fmt: skip
DOUBT_PHRASES = [
    ("not", "sure"), ("no", "idea"), ("do", "n't", "know"), ("do", "nt", "know"), ("not", "certain"),
    ("ca", "n't", "remember"), ("can", "not", "remember"), ("not", "100"), ("kind", "of"), ("sort", "of"),
]  # fmt: skip

# A clause that opens with one of these is a question ("can I …", "is it …", "would eczema be …") ...
AUXILIARIES = {
    "can", "could", "is", "are", "do", "does", "will", "would", "should", "shall", "may", "must", "ca", "wo", "isnt",
}  # fmt: skip
# ... and with one of these only when a subject follows: "have you …" asks, "have eczema on my
# hands" and "was pregnant last year" are short statements.
STATEMENT_AUXILIARIES = {"am", "did", "was", "were", "has", "have", "had"}
SUBJECTS = {
    "i", "you", "u", "ya", "it", "we", "they", "he", "she", "this", "that", "there", "people", "someone",
    "anyone", "somebody", "anybody",
}  # fmt: skip
QUESTION_WORDS = {"what", "how", "when", "why", "which", "who", "where", "whats", "what's", "hows"}
QUESTION_OPENING = 3  # "roughly how long …": a question word among a sentence's first words
OPENERS = {"hi", "hello", "hey", "ok", "okay", "so", "and", "also", "but", "um", "hmm", "quick", "question"}
HYPOTHETICAL = {"if", "whether", "suppose", "supposing", "assuming", "incase", "while", "whilst", "during"}
HYPOTHETICAL_PHRASES = [("in", "case"), ("what", "about"), ("how", "about"), ("say", "i")]
# A first-person statement right before the term overrides a question opening ("can i have it im pregnant").
STATEMENT_CUES = [
    ("i", "'m"), ("im",), ("i", "m"), ("i", "am"), ("i", "have"), ("i", "'ve"), ("ive",), ("i", "got"), ("i", "take"),
    ("i", "get"), ("i", "had"), ("i", "'m", "on"), ("im", "on"), ("i", "was"), ("i", "use"),
]  # fmt: skip

NOT_ME = [("not", "me"), ("not", "mine"), ("not", "myself"), ("not", "for", "me")]

PAST = {
    "ago", "had", "used", "previously", "past", "remission", "former", "formerly", "survivor",
    "recovered", "cured", "was", "were", "stopped", "finished", "quit", "cleared", "longer",
    "anymore", "last", "history", "treated", "gone", "went", "came", "did",
}  # fmt: skip
ENDED = {"anymore", "remission", "cured", "recovered", "cleared", "gone", "longer", "stopped", "finished", "quit"}
ENDED_PHRASES = [("any", "more"), ("used", "to"), ("all", "clear"), ("got", "rid"), ("no", "more"), ("came", "off")]
RECURRENT = {
    "get", "gets", "getting", "prone", "sometimes", "occasionally", "often", "usually", "tend",
    "regularly", "times", "every", "recurring", "recurrent", "outbreaks", "flare", "flares", "odd",
    "winter", "summer", "stress", "stressed", "always",
}  # fmt: skip
CURRENT = {"currently", "now", "still", "since", "today", "moment", "weeks", "months", "trimester", "due"}
# Terms whose object is someone else: "breastfeeding my son, he's 6 months" is the visitor's.
TAKES_AN_OBJECT = {"breastfeeding"}
# Terms that are themselves in the past tense: "I breastfed both my kids" is over (when asked
# "are you breastfeeding at the moment?" they say so).
PAST_FORMS = {"breastfed", "breast fed", "breast-fed"}
# "on" means taking it only right before the term ("I'm on warfarin"); elsewhere it is a place ("on my neck").
TAKING = "on"
# Like "ago": "in 2017", "a while back" put the clause in the past, whatever "weeks" or "on" say.
PAST_PHRASES = [("a", "while", "back"), ("back", "in"), ("years", "back"), ("when", "i", "was")]

ATTRIBUTES = (
    ("negated", False),
    ("hedged", False),
    ("asked", False),
    ("ended", False),
    ("who", "self"),
    ("when", "current"),
    ("ago_days", None),
)
for _name, _default in ATTRIBUTES:
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
    if word in HYPHENS and i > 0 and not doc[i - 1].whitespace_:
        return False  # inside a word: "mother-in-law", "type-2"
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


def answer_words(doc: Doc) -> set[int]:
    """Short answers that open a sentence and are followed by a new clause.

    "no i get cold sores sometimes", "hi, no i …", "quick one: no i …": the "no" answers the
    question; it does not negate what follows.
    """
    found = set()
    for start in [0, *(i + 1 for i, token in enumerate(doc) if token.lower_ in HARD_BOUNDARIES)]:
        first = start
        while first < len(doc) and (doc[first].is_punct or _lower(doc, first) in OPENERS):
            first += 1
        if first >= len(doc) - 1 or _lower(doc, first) not in ANSWER_WORDS:
            continue
        following = first + 1
        while following < len(doc) and doc[following].is_punct:
            following += 1
        if following < len(doc) and _lower(doc, following) in CLAUSE_STARTS:
            found.add(first)
    return found


def _has_phrase(words: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tuple(words[i : i + n]) == phrase for i in range(len(words) - n + 1))


def _words(doc: Doc, start: int, end: int) -> list[str]:
    return [_lower(doc, i) for i in range(start, end)]


def _hedged(words: list[str]) -> bool:
    return bool(set(words) & DOUBT_WORDS) or any(_has_phrase(words, p) for p in DOUBT_PHRASES)


def post_negation(doc: Doc, ent: Span) -> int | None:
    """Index of a short answer right after the term ("pregnant? no", "diabetes - none")."""
    after = [i for i in range(ent.end, min(len(doc), ent.end + 3)) if not doc[i].is_punct]
    if not after or _lower(doc, after[0]) not in POST_NEGATIONS:
        return None
    following = after[0] + 1
    if following < len(doc) and not (doc[following].is_punct or _lower(doc, following) in HARD_BOUNDARIES | FILLERS):
        return None  # "no idea", "none of your business": not a short answer
    return after[0]


def _negated(doc: Doc, ent: Span, start: int, ignored: set[int]) -> bool:
    """A negation cue shortly before the term in its clause, or a short "no" right after it."""
    cues = [i for i in range(max(start, ent.start - NEGATION_WINDOW), ent.start) if i not in ignored]
    if any(_lower(doc, i) in NEGATIONS for i in cues):
        return True
    if tuple(_words(doc, max(start, ent.start - 2), ent.start)) in CONTRASTS:
        return True
    return post_negation(doc, ent) is not None or _reassured(_words(doc, ent.end, min(len(doc), ent.end + 4)))


def _reassured(after: list[str]) -> bool:
    """ "my sugars are fine", "blood sugars all normal": the term is said to be healthy."""
    rest = [w for w in after if w not in LINKING]
    return bool(rest) and rest[0] in REASSURED


def _asked(before: list[str]) -> bool:
    """The clause (`before`: its words up to the term) asks about the term, or supposes it."""
    if set(before) & HYPOTHETICAL or any(_has_phrase(before, p) for p in HYPOTHETICAL_PHRASES):
        return not _has_phrase(before, ("to", "say", "i"))  # "forgot to say I have …" tells

    first = next((i for i, w in enumerate(before) if w not in OPENERS and w not in ANSWER_WORDS and w != ","), None)
    if first is None:
        return False
    opening, subject = before[first], before[first + 1 : first + 2]
    question = opening in QUESTION_WORDS or opening in AUXILIARIES
    if not (question or (opening in STATEMENT_AUXILIARIES and subject and subject[0] in SUBJECTS)):
        return False
    statement = before[first + 2 :][-4:]  # after the question's own "can I", "is it"
    return not any(_has_phrase(statement, cue) for cue in STATEMENT_CUES)


def _in_a_question(doc: Doc, ent: Span, clause_end: int, words: list[str]) -> bool:
    """A clause that ends a question and says nothing of the visitor asks about its term ("roughly
    how long does the skin stay sunburnt-looking after a session?"); "currently acne, does it
    hurt?" tells, then asks. The sentence must open like a question ("me: type v. how much?" tells)."""
    if clause_end >= len(doc) or doc[clause_end].text != "?":
        return False
    if set(words) & (SELF | {"my", "mine"} | ANSWER_WORDS):
        return False
    start = max((i + 1 for i in range(ent.start) if doc[i].text in {".", "!", "?", ":"}), default=0)
    opening = [w for w in _words(doc, start, ent.start) if w not in OPENERS][:QUESTION_OPENING]
    return bool(set(opening) & (QUESTION_WORDS | AUXILIARIES))


def _person(word: str) -> str | None:
    if word in SELF:
        return "self"
    if word in FAMILY:
        return "family"
    return "other" if word in OTHERS else None


def _who(before: list[str], after: list[str], beyond: list[str]) -> str:
    """Whose condition: the person named nearest before the term in its clause, else after it.

    "my sister and I both have diabetes" is the visitor's; "my friend who's breastfeeding asked
    me" is the friend's. A correction right after the clause ("diabetes? not me") wins.
    """
    if any(_has_phrase(after + beyond, p) for p in NOT_ME):
        people = {_person(w) for w in before + after + beyond} - {None, "self"}
        return "family" if "family" in people else "other"
    for word in [*reversed(before), *after]:
        if person := _person(word):
            if person == "family" and _not_blood(before + after, word):
                return "other"
            return person
    return "self"


def _not_blood(words: list[str], relative: str) -> bool:
    """A relative by marriage or adoption ("my stepdad", "mother-in-law"), or someone else's
    ("my girlfriend's mum")."""
    if set(words) & NON_BLOOD:
        return True
    at = words.index(relative)
    return at >= 2 and words[at - 1] in ("'s", "s") and _person(words[at - 2]) == "other"


def _ended(words: list[str]) -> bool:
    return bool(set(words) & ENDED) or any(_has_phrase(words, p) for p in ENDED_PHRASES)


def _when(words: list[str], next_words: list[str], taking: bool) -> str:
    """`next_words`: right after the clause, for phrases an "and" cuts ("now and then");
    `taking`: "on" right before the term ("I'm on roaccutane")."""
    found = set(words) | ({TAKING} if taking else set())
    if _has_phrase(words + next_words, ("now", "and", "then")) or _has_phrase(words, ("every", "now")):
        found = (found - {"now"}) | {"sometimes"}
    years = any(len(w) == 4 and w.isdigit() and w[:2] in ("19", "20") for w in words)
    years = years and not found & {"diagnosed", "since"}  # "diagnosed in 2010" goes on today
    if years or any(_has_phrase(words, p) for p in PAST_PHRASES):
        found.add("ago")
    if "ago" in found:
        found -= {"weeks", "months", TAKING}  # "2 weeks ago" is past, "12 weeks pregnant" is now
    if found & CURRENT or TAKING in found:
        return "current"
    if found & RECURRENT:
        return "recurrent"
    if found & PAST:
        return "past"
    return "current"


def _ago_days(doc: Doc, ent: Span, start: int, end: int) -> int | None:
    """The time the term's clause states, else the rest of its sentence ("used sunbeds but stopped
    a fortnight ago")."""
    clause_days = days_ago(doc[start:end].text)
    if clause_days is not None:
        return clause_days
    sentence_end = next((i for i in range(ent.end, len(doc)) if doc[i].text in {".", "!", "?", ";"}), len(doc))
    return days_ago(doc[ent.start : sentence_end].text)


@Language.component("clinical_context")
def clinical_context(doc: Doc) -> Doc:
    """Sets the context attributes on every entity in `doc.ents`."""
    starts = {ent.start for ent in doc.ents}
    ignored = {i for ent in doc.ents if (i := post_negation(doc, ent)) is not None}  # another term's "no"
    ignored |= answer_words(doc)
    for ent in doc.ents:
        start, end = clause(doc, ent, starts)
        before, after = _words(doc, start, ent.start), _words(doc, ent.end, end)
        words = before + after
        ended = _ended(words)
        ent._.hedged = _hedged(words)
        ent._.asked = _asked(before) or _in_a_question(doc, ent, end, words)
        ent._.ended = ended and not ent._.asked
        ent._.negated = _negated(doc, ent, start, ignored) and not ent._.hedged and not ent._.ended
        if ent.ent_id_ in TAKES_AN_OBJECT:
            after = [w for w in after if _person(w) != "other"]  # "breastfeeding my lo, she's 5mo"
        ent._.who = _who(before, after, _words(doc, ent.end, min(len(doc), ent.end + 4)))
        taking = ent.start > 0 and _lower(doc, ent.start - 1) == TAKING
        past_form = ent.text.lower() in PAST_FORMS and not set(words) & (CURRENT | ANSWER_WORDS)
        ent._.when = "past" if ended or past_form else _when(words, _words(doc, end, min(len(doc), end + 2)), taking)
        ent._.ago_days = _ago_days(doc, ent, start, end)
    return doc
