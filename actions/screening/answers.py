"""How a reply answers the screen's question, read closed-world: a "no" counts only where every
word of the reply is understood.

Visitors keep using words no list knows ("my type 2 is diet controlled", "my mum has it"), so
this module never asks "is there a disclosure I recognise?". It asks the opposite: is all of
this reply understood as a denial? Only then does its "no" settle what the question asked.

- A plain denial (`plain_denial`): the reply holds nothing but denial words, the factors' own
  names being denied, politeness, filler and emoji ("nope", "not pregnant not breastfeeding
  nothing like that", "no thanks x"). Its "no" answers every factor the question asked; a reply
  that only denies names ("I'm not pregnant") answers those names. A denied term counts at all
  only inside a clause that is a plain denial (`plainly_denied`).
- A clear no to a follow-up (`clear_no`): the question about one factor may be answered with a
  little more, as long as each clause is understood: a denial, someone who does not count for
  this factor ("that's my colleague"), a time outside its window ("over a year ago"), or a
  reassurance ("my blood pressure is fine").

Anything else is not a "no": a "but", a correction, a pronoun, another person, a time, a
medicine, a body part, any word not placed here. The screen then asks about each factor left
open, and an unclear answer to that goes to a clinician (core.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from actions.screening.language import _DOUBT, DENY_INTENT, Mention, Reading, Stance, asks_a_question
from actions.screening.policy import Factor
from nlp.durations import NUMBER_WORDS, days_ago
from nlp.people import FAMILY, NON_BLOOD, OTHERS
from nlp.text import normalise

# --- The closed vocabulary of a plain denial ------------------------------------------------
GENERAL_DENIALS = {
    "no",
    "n",
    "nope",
    "nah",
    "na",
    "nay",
    "never",
    "none",
    "nothing",
    "neither",
    "negative",
    "nil",
    "nada",
}
NEGATIONS = GENERAL_DENIALS | {
    "not", "nor", "don't", "dont", "doesn't", "doesnt", "didn't", "didnt", "haven't", "havent", "hasn't",
    "hasnt", "isn't", "isnt", "aren't", "arent", "wasn't", "wasnt", "ain't", "aint", "won't",
}  # fmt: skip
FRAME = {
    "i", "i'm", "im", "am", "i've", "ive", "have", "has", "had", "do", "does", "did", "got", "any", "anything",
    "either", "ever", "at", "all", "the", "a", "an", "or", "on", "take", "taking", "definitely",
    "absolutely", "certainly", "honestly", "thankfully", "luckily", "fortunately",
}  # fmt: skip
POLITE = {
    "thanks", "thank", "you", "thx", "ty", "cheers", "please", "pls", "plz", "ok", "okay", "k", "kk", "hi",
    "hello", "hey", "um", "umm", "erm", "hmm", "uh", "er", "well", "lol", "haha", "x", "xx", "xxx",
}  # fmt: skip
# What a question asks about, named as a whole: "no meds at all", "no health problems".
CATEGORIES = {
    "meds", "med", "medicine", "medicines", "medication", "medications", "tablets", "pills", "drugs",
    "problems", "problem", "issues", "issue", "conditions", "condition", "illness", "illnesses", "disease",
    "diseases", "health", "else", "of", "kind", "sort", "like", "that", "such", "thing", "things", "stuff",
}  # fmt: skip
PLAIN_WORDS = NEGATIONS | FRAME | POLITE | CATEGORIES
# Whole phrases that deny everything asked: read as one "no".
DENIAL_PHRASES = re.compile(
    r"\b(none of (?:those|these|them|that|the above|this)|nothing (?:like (?:that|this|those)|of the sort|of that sort)"
    r"|no to (?:all|both|everything|each)(?: of (?:those|them|these|the above))?|neither(?: of (?:those|them|these))?"
    r"|not at all|of course not|no way|all good|all fine|i don'?t have (?:any of )?(?:those|them|these)"
    r"|in my (?:whole |entire )?life|whatsoever)\b"
)
# A visitor taking back or adding to what they said: never a plain answer.
CORRECTION = re.compile(
    r"\b(wait|sorry|actually|i mean|misread|mis-read|scratch that|hang on|hold on|oops|correction|on reflection|"
    r"in fact|forgot|forget|i said no|answered no|said yes|my mistake|my bad|pardon|to be honest|tbh|come to think)\b"
)
TOKEN = re.compile(r"§|[a-z0-9]+(?:'[a-z]+)*|[,.;:!?]")
CLAUSE_BREAKS = {
    ",",
    ".",
    ";",
    ":",
    "!",
    "?",
    "but",
    "though",
    "although",
    "however",
    "except",
    "apart",
    "whereas",
    "and",
    "so",
}
TERM = "§"  # stands for a term in a reply's tokens; removed from what visitors type

# --- What a clear no to a follow-up may also hold -------------------------------------------
REASSURANCE = {
    "fine",
    "normal",
    "healthy",
    "good",
    "great",
    "perfect",
    "ok",
    "okay",
    "well",
    "fit",
    "pale",
    "fair",
    "calm",
}
FUNCTION = {
    "my", "own", "mine", "me", "myself", "it", "it's", "its", "that", "that's", "this", "who", "which", "whose",
    "is", "are", "was", "were", "be", "been", "being", "has", "have", "had", "do", "does", "did", "the", "a",
    "an", "of", "in", "on", "at", "to", "for", "from", "with", "by", "as", "so", "and", "or", "only", "just",
    "since", "always", "we", "we're", "they", "they're", "their", "her", "his", "he", "she", "he's", "she's",
    "him", "them", "there", "about", "around", "over", "than", "more", "then", "all", "both", "also", "too",
    "very", "quite", "really", "completely", "totally", "perfectly", "each", "s", "'s", "but", "though",
    "apart", "except", "whereas", "however", "now", "shes", "hes", "thats", "theres", "whats", "id", "here",
    "even", "yet", "bit", "loads", "lot", "lots", "much", "said", "know", "every", "because", "if", "side", "real",
    "biological",
}  # fmt: skip
# Children and other people a reply may mention (family for vitiligo: see _people_allowed).
RELATIVES = {
    "kids", "children", "child", "baby", "babies", "youngest", "eldest", "oldest", "lo", "toddler", "grandad",
    "grandson", "granddaughter", "grandkids", "grandchildren",
}  # fmt: skip
# Everyday life and sun protection, and medicines that bear on no factor.
EVERYDAY = {
    "work", "works", "working", "office", "job", "nights", "indoors", "inside", "home", "garden", "hat",
    "spf", "sunscreen", "suncream", "factor", "wear", "wore", "worn", "paracetamol", "vitamin", "vitamins",
    "multivitamin", "multivitamins", "supplements", "d", "burn", "burns", "rather", "instead",
}  # fmt: skip
SELF_WORDS = {"i", "me", "myself", "i'm", "im", "i've", "ive", "i'd", "we", "us", "mine"}
TIME_WORDS = {
    "ago", "back", "year", "years", "yr", "yrs", "month", "months", "week", "weeks", "day", "days", "fortnight",
    "decade", "decades", "until", "till", "used", "stopped", "finished", "quit", "ended", "before", "last",
    "when", "young", "younger", "teenager", "teen", "teens", "kid", "child", "school", "uni", "university",
    "college", "previously", "once", "long", "time", "ages", "took", "came", "off", "gone", "went", "twenties",
    "youth", "childhood", "earlier", "stop", "finish",
}  # fmt: skip
# What a reassurance is about: "my blood pressure is fine", "my bloods came back perfect".
HEALTH_SUBJECTS = {
    "skin", "blood", "bloods", "pressure", "bp", "sugar", "sugars", "sugar's", "glucose", "levels", "level",
    "test", "tests", "results", "result", "check", "checked", "checkup", "up", "health", "everything",
    "doctor", "gp", "nurse", "yearly", "annual", "routine", "immune", "immunity", "system", "heart", "normally",
    "tested",
    "screened", "measured", "came", "back",
}  # fmt: skip
FOLLOW_UP_WORDS = (
    PLAIN_WORDS
    | REASSURANCE
    | FUNCTION
    | TIME_WORDS
    | HEALTH_SUBJECTS
    | FAMILY
    | RELATIVES
    | OTHERS
    | NON_BLOOD
    | EVERYDAY
)
TIME_CUES = {
    "ago", "year", "years", "yr", "yrs", "month", "months", "week", "weeks", "day", "days", "fortnight", "decade",
    "decades", "since", "until", "till", "used", "stopped", "finished", "quit", "ended", "teenager", "teen",
    "teens", "previously", "youth", "childhood", "twenties",
}  # fmt: skip
# "I had it checked last month": a check-up is a reassurance's subject, not a disclosure.
CHECKS = {"checked", "tested", "test", "tests", "check", "checkup", "screened", "measured", "bloods"}
NUMBER = re.compile(r"^\d+$")
# Something over for less than this may still be there (a cold sore last week may not have healed).
RECENT_WEEKS = 4
# Words that point back at something ("I had it", "she has one"): understood only with the person
# or the reassurance they belong to.
POINTERS = {"it", "it's", "its", "that", "that's", "this", "them", "those", "these", "they", "they're", "one"}
# "no, I do", "I've got": a first-person statement with no denial after its subject says yes.
SUBJECTS = {"i", "i'm", "im", "i've", "ive", "we"}
VERBS = {
    "have",
    "has",
    "had",
    "do",
    "does",
    "did",
    "take",
    "taking",
    "took",
    "got",
    "get",
    "gets",
    "use",
    "using",
    "on",
}
_OPENING_NO = re.compile(
    r"^\W*(no+|nope|nah|na|never|none|nothing|not|negative|i don'?t|i do not|i'?m not|i am not|i haven'?t|i have not)\b"
)


@dataclass(frozen=True)
class Denial:
    """A plain denial. `general`: it denies everything asked, not only the names it repeats."""

    general: bool


def _said(text: str) -> str:
    return " ".join(normalise(text).split())


def unsettled(text: str) -> bool:
    """A question of its own, a doubt or a correction: no reading of this text can be a plain no."""
    said = _said(text)
    return "?" in said or bool(_DOUBT.search(said)) or bool(CORRECTION.search(said))


# Words that add to or take back an earlier answer ("sorry, I forgot to say …", "I said no to the
# cold sore question but …"). After the outcome, such a message that the screen cannot read goes
# to a clinician rather than leave the outcome as it was.
LATE_ADDITION = re.compile(
    r"\b(forgot|forgotten|forget to (?:say|mention|tell)|should have (?:said|mentioned|told)|"
    r"i (?:said|answered|pressed|clicked|tapped|put) no|(?:said|answered) no to|one more thing|i lied|"
    r"(?:was|is)n'?t true|not true|misread|mis-read|(?:answered|answer|said|got|pressed|clicked|tapped|put)"
    r"(?: \w+){0,3} wrong|wrong (?:answer|button)|actually,? (?:i|yes|my)|correction|on reflection|come to think)\b"
)


def adds_to_earlier_answer(text: str) -> bool:
    """Even when it also asks something ("I forgot to mention: my piercing is infected. Is that in
    the area?"); a question that only opens with "I forgot" goes to a clinician too: the cautious side."""
    return bool(LATE_ADDITION.search(_said(text)))


def is_correction(text: str) -> bool:
    """The visitor takes back or adds to an earlier answer ("sorry, I said no but …", "oh wait")."""
    return bool(CORRECTION.search(_said(text)))


def _tokens(text: str, terms: Iterable[Mention]) -> list[str]:
    """The reply's words, each term in `terms` replaced by one TERM token, denial phrases by "no"."""
    lowered = normalise(text).replace(TERM, " ")
    for mention in sorted(terms, key=lambda m: m.start, reverse=True):
        if mention.end > mention.start:
            lowered = f"{lowered[: mention.start]} {TERM} {lowered[mention.end :]}"
    lowered = DENIAL_PHRASES.sub(" no ", lowered)
    tokens: list[str] = []
    for token in TOKEN.findall(lowered):
        if token.endswith("'s") and token not in FUNCTION:
            tokens += [token[:-2], "'s"]  # "my girlfriend's mum", "sugar's"
        else:
            tokens.append(token)
    return tokens


def _clauses(tokens: list[str]) -> list[list[str]]:
    clauses: list[list[str]] = [[]]
    for token in tokens:
        if token in CLAUSE_BREAKS:
            clauses.append([])
        else:
            clauses[-1].append(token)
    return [c for c in clauses if c]


def _is_denial_word(token: str) -> bool:
    return token in NEGATIONS or bool(re.fullmatch(r"no+|nah+|nope+", token))


def _denied_by_name(mention: Mention) -> bool:
    return mention.stance == Stance.DENIED and mention.who == "self" and not mention.ended


def plain_denial(reading: Reading) -> Denial | None:
    """The reply as a plain denial, or None if anything in it is more than that."""
    if reading.text.lstrip().startswith("/"):  # a button's payload ("/deny"): its intent is the answer
        return Denial(general=True) if reading.intent == DENY_INTENT else None
    if unsettled(reading.text) or not all(_denied_by_name(m) for m in reading.mentions):
        return None
    all_tokens = _tokens(reading.text, reading.mentions)
    if any(_affirms(clause) for clause in _clauses(all_tokens)):
        return None
    tokens = [t for t in all_tokens if t not in CLAUSE_BREAKS]
    if any(t != TERM and not (t in PLAIN_WORDS or _is_denial_word(t)) for t in tokens):
        return None
    if not reading.mentions and not any(_is_denial_word(t) for t in tokens):
        return None
    return Denial(general=_general(tokens))


def _general(tokens: list[str]) -> bool:
    """A denial word of its own, not just the one in front of a name ("no diabetes" denies
    diabetes; "no, not pregnant" and "nothing like that" deny the whole question)."""
    attached: set[int] = set()
    for index, token in enumerate(tokens):
        if token != TERM:
            continue
        before = index - 1
        while (
            before >= 0
            and tokens[before] != TERM
            and (tokens[before] in PLAIN_WORDS or _is_denial_word(tokens[before]))
        ):
            attached.add(before)
            before -= 1
            if tokens[before + 1] in GENERAL_DENIALS or re.fullmatch(r"no+", tokens[before + 1]):
                break  # one "no" per name: "no diabetes no cancer"
    if TERM not in tokens:
        return True
    return any(
        i not in attached and (t in GENERAL_DENIALS or re.fullmatch(r"no+|nah+|nope+", t)) for i, t in enumerate(tokens)
    )


def plainly_denied(reading: Reading, mention: Mention) -> bool:
    """A denied term inside a clause that is a plain denial ("I'm not pregnant", "no diabetes,
    cancer or psoriasis"): only then does it settle its factor."""
    if not _denied_by_name(mention) or is_correction(reading.text) or _DOUBT.search(_said(reading.text)):
        return False
    marked = [m for m in reading.mentions if m == mention or _denied_by_name(m)]
    tokens = _tokens(reading.text, marked)
    own = _clause_of(tokens, [m for m in sorted(marked, key=lambda m: m.start)].index(mention))
    return not _affirms(own) and all(t == TERM or t in PLAIN_WORDS or _is_denial_word(t) for t in own)


def plainly_over(reading: Reading, mention: Mention) -> bool:
    """A term said to be over, in a clause whose every word is understood ("I stopped
    breastfeeding about six years ago"); "stopped breastfeeding during the day" is not over."""
    if is_correction(reading.text) or _DOUBT.search(_said(reading.text)):
        return False
    ordered = sorted(reading.mentions, key=lambda m: m.start)
    own = _clause_of(_tokens(reading.text, ordered), ordered.index(mention))
    return all(t == TERM or t in FOLLOW_UP_WORDS or NUMBER.match(t) or t in NUMBER_WORDS for t in own)


def _clause_of(tokens: list[str], term_number: int) -> list[str]:
    """The clause around the n-th TERM token."""
    seen = -1
    for clause in _clauses(tokens):
        for token in clause:
            if token == TERM:
                seen += 1
                if seen == term_number:
                    return clause
    return []


def clear_no(factor: Factor, reading: Reading, harmless: Iterable[Mention]) -> bool:
    """Whether a reply to the follow-up about `factor` alone is a clear no, every clause understood.

    `harmless`: the reply's terms that say nothing present or doubtful about the visitor for any
    factor and nothing against this one (core.py decides them); any other term is not a no.
    """
    harmless = tuple(harmless)
    if unsettled(reading.text) or len(harmless) != len(reading.mentions):
        return False
    if plain_denial(reading):
        return True
    tokens = _tokens(reading.text, harmless)
    reply_days = days_ago(_said(reading.text))
    said_no = bool(_OPENING_NO.search(_said(reading.text))) or any(m.stance == Stance.DENIED for m in harmless)
    over = False  # a time that puts this factor outside its window: "had roaccutane as a teenager"
    reassured = False
    for clause in _clauses(tokens):
        words = [w for w in _without_frequencies(clause) if w != TERM]
        known = all(w in FOLLOW_UP_WORDS or NUMBER.match(w) or w in NUMBER_WORDS for w in words)
        if not known and not _about_someone_else(factor, words):
            return False
        reassurance = any(w in REASSURANCE for w in words)
        denial = any(_is_denial_word(w) for w in words)
        checked = bool(set(words) & CHECKS)
        timed = bool(set(words) & TIME_CUES) or days_ago(" ".join(words)) is not None
        if _negated_reassurance(words):
            return False  # "not fine", "my pressure isn't normal" (but "no, I'm pale" is a no and a reassurance)
        if timed and not _time_allowed(factor, words, reply_days if denial else None):
            return False
        if _affirms(clause) and not (reassurance or checked or timed):
            return False  # "no, I do"; but "I took it 10 years ago", "I had it checked"
        if not _people_allowed(factor, words):
            return False
        someone_else = _names_someone_else(factor, words)
        if set(words) & POINTERS and not (reassurance or denial or checked or timed or someone_else):
            return False
        reassured = reassured or reassurance
        said_no = said_no or denial
        over = over or (timed and not denial)
    return said_no or reassured or over


def _about_someone_else(factor: Factor, words: list[str]) -> bool:
    """A clause whose subject is someone else and that never names the visitor ("my mum had bowel
    cancer"): its words are about them, whatever they are. Not for family where family counts."""
    subject = words[1:2] if words[:1] in (["my"], ["our"]) else words[:1]
    people = OTHERS | FAMILY | RELATIVES | {"he's", "she's", "hes", "shes", "they're"}
    if not subject or subject[0] not in people or set(words) & SELF_WORDS:
        return False
    return not factor.family_counts


def _negated_reassurance(words: list[str]) -> bool:
    """ "not fine", "isn't normal"; but not the answer in "no, I'm pale" or "no im fine"."""
    for index, word in enumerate(words):
        if word not in REASSURANCE:
            continue
        for before in range(max(0, index - 2), index):
            # the answer that opens a clause ("no, I'm pale", "nah pale"), unless it reads "no good"
            answer = before == 0 and words[0] in GENERAL_DENIALS and not (index == 1 and word in ("good", "well"))
            if _is_denial_word(words[before]) and not answer:
                return True
    return False


def _affirms(clause: list[str]) -> bool:
    """A first-person statement with no denial after its subject: "I do", "I've got", "I'm on"."""
    for index, word in enumerate(clause):
        if word in SUBJECTS:
            rest = clause[index + 1 :]
            if any(w in VERBS for w in rest) and not any(_is_denial_word(w) for w in rest):
                return True
    return False


def _names_someone_else(factor: Factor, words: list[str]) -> bool:
    """The clause names another person ("that's my colleague"; "it was my mum", where family does
    not count for this factor)."""
    people = OTHERS - {"you", "she", "he", "they", "her", "his", "him", "those"}
    if not factor.family_counts:
        people = people | FAMILY | RELATIVES
    return bool(set(words) & people)


_FREQUENCY = re.compile(r"^(day|days|week|weeks|month|months|year|years|morning|night|summer|winter)$")


def _without_frequencies(clause: list[str]) -> list[str]:
    """ "every day", "every summer": how often, not when (kept out of the time check)."""
    kept: list[str] = []
    for word in clause:
        if kept and kept[-1] == "every" and _FREQUENCY.match(word):
            kept.pop()
            continue
        kept.append(word)
    return kept


def _people_allowed(factor: Factor, words: list[str]) -> bool:
    """Someone else's condition is beside the point, except blood family where family counts."""
    if not factor.family_counts:
        return True
    if any(_is_denial_word(w) for w in words):
        return True  # "not in my family", "none of my blood relatives have it", "my mum doesn't"
    if re.search(r"\bnot (?:my|our) (?:real|biological|blood)\b", " ".join(words)):
        return True  # "he's not my real dad"
    for index, word in enumerate(words):
        if word not in FAMILY | RELATIVES or set(words) & NON_BLOOD:
            continue
        someone_elses = index >= 2 and words[index - 1] == "'s" and words[index - 2] in OTHERS  # girlfriend's mum
        their_partner = (
            words[index + 1 : index + 2] == ["'s"]
            and words[index + 2 : index + 3] != []
            and (words[index + 2] in OTHERS)
        )  # "my uncle's wife"
        if not (someone_elses or their_partner):
            return False  # "my mum has it"; but "my girlfriend's mum", "my stepdad", "my mother-in-law" don't count
    return True


def _time_allowed(factor: Factor, words: list[str], denied_since: int | None) -> bool:
    """A time is understood only against the factor's window: longer ago than it, or (for what
    matters only now) over for a while. `denied_since`: for a denial with a time of its own
    ("nothing since"), the time the rest of the reply stated. For what matters ever (keloids), a
    time means it happened."""
    if factor.counts_past and factor.within_weeks is None:
        return False
    days = days_ago(" ".join(words))
    if days is None:
        days = denied_since
    return days is not None and days > (factor.within_weeks or RECENT_WEEKS) * 7


# Requests that may interrupt the screen, and the words that make one plain. Anything else the
# classifier heard as one of them is an answer ("not since a holiday in Crete" is not a FAQ).
_PLAIN_REQUESTS = {
    "stop": re.compile(
        r"\b(stop|quit|cancel|enough|skip|end (?:this|it|the)|no more questions|rather not|"
        r"don'?t want to (?:answer|continue|carry on|go on|do (?:this|these|that)))\b"
    ),
    "human_handoff": re.compile(
        r"\b(?:speak|talk|chat) (?:to|with)\b|\b(?:call|phone|ring|contact) me\b|\b(?:real|actual) (?:person|human)\b"
        r"|\b(?:a|an|to a) (?:person|human|agent)\b|\bhuman\b"
    ),
    "book_consultation": re.compile(
        r"\b(?:book|schedule|make|arrange)\b.{0,25}\b(?:appointment|consultation|session)\b|\bbook me\b"
        r"|\b(?:can|could|want to|like to|wanna) book\b"
    ),
    "erase_my_data": re.compile(
        r"\b(delete|erase|remove|wipe|forget)\b.{0,40}\b(data|details|conversation|chat|answers|information|info|"
        r"everything|me)\b|\bforget me\b|\bprivacy\b"
    ),
    "bot_challenge": re.compile(r"\b(bot|robot|computer|machine|ai|automated|real person|human)\b"),
    "clinic_info": re.compile(
        r"\b(where|address|located|location|directions|parking|opening|open|hours|website|phone number)\b"
    ),
}


def plainly_a_request(intent: str | None, reading: Reading) -> bool:
    """Whether a message heard as a request (a FAQ, stop, a person, a booking) plainly is one;
    if not, it is the visitor's answer to the screen's question."""
    if intent == "erase_my_data":
        return bool(_PLAIN_REQUESTS[intent].search(_said(reading.text)))  # privacy always wins when asked for
    if reading.mentions:
        return False
    if intent == "faq":
        return asks_a_question(reading.text)
    pattern = _PLAIN_REQUESTS.get(intent or "")
    return pattern is None or bool(pattern.search(_said(reading.text)))
