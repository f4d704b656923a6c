"""Properties of closed-world answers, whatever the vocabulary: only a plain denial makes a factor
absent, and a word the reading cannot place never does. Replies are generated (hypothesis) with
words no list contains and read by the built spaCy pipeline and `take_turn`, as in production."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from actions.screening.answers import plainly_denied, plainly_over
from actions.screening.evaluator import Prompt, Screening, Status
from actions.screening.language import Stance
from actions.screening.policy import default_policy
from tests.screening.reader import read, turn
from tests.screening.replay import SHARED_VISITORS
from tests.screening.test_answers import asked

POLICY = default_policy()
QUESTIONS = [q.id for q in POLICY.questions]
ASKED_FACTORS = [f.id for q in POLICY.questions for f in q.asked]

# No vowels: never an English word, a pattern term or a name the rules could know.
UNKNOWN = st.text(alphabet="bcdfghjklmnpqrstvwxz", min_size=5, max_size=9)
OPENERS = ["no", "No,", "nope", "nah", "no no", "not really,", "never", "none", "no thanks,", "no 😅"]
CUES = [
    "but", "though", "except", "apart from", "only", "just", "wait", "sorry", "actually", "I mean",
    "my mum", "my husband", "it", "that", "those", "used to", "stopped a fortnight ago", "till March",
    "on metformin", "my cheek", "my little one", "since",
]  # fmt: skip
FOLLOW_UP_CUES = [c for c in CUES if c not in ("my mum", "my husband", "my little one")]


@st.composite
def reply_with_an_unknown_word(draw: st.DrawFn, cues: list[str] = CUES) -> str:
    opener, cue, word = draw(st.sampled_from(OPENERS)), draw(st.sampled_from(cues)), draw(UNKNOWN)
    shape = draw(st.sampled_from(["{o} {c} {w}", "{o}, {w}", "{o} {w} {c}", "{o} - {c}, {w} {w}", "{w} {o}"]))
    return shape.format(o=opener, c=cue, w=word)


def shared_sentences() -> list[str]:
    """What the shared visitors answered (README there), as real sentences to alter."""
    sentences = []
    for path in sorted(SHARED_VISITORS.glob("screening_*.json")):
        for profile in json.loads(path.read_text(encoding="utf-8"))["profiles"]:
            sentences += list((profile.get("facts") or {}).values())
    assert sentences, f"no visitor profiles in {SHARED_VISITORS}"
    return sentences


DENIALS = re.compile(r"^(no+|not|never|none|nothing|nope|nah|n't|don't|dont)$", re.IGNORECASE)


@st.composite
def shared_sentence_with_a_word_swapped(draw: st.DrawFn) -> str:
    words = draw(st.sampled_from(shared_sentences())).split()
    swappable = [i for i, w in enumerate(words) if not DENIALS.match(w.strip(",.!"))]
    index = draw(st.sampled_from(swappable))
    words[index] = draw(UNKNOWN)
    return " ".join(words)


def absent_by_name(reply: str) -> set[str]:
    """Factors the reply itself denies, or says are over, by name in a clause whose every word is
    understood ("no not pregnant but …", "I used to take aspirin but …")."""
    reading = read(reply)
    return {
        factor.id
        for mention in reading.mentions
        if plainly_denied(reading, mention) or (mention.stance == Stance.ASSERTED and plainly_over(reading, mention))
        for factor, _ in POLICY.factors_for(mention.label, mention.value)
    }


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(QUESTIONS), reply_with_an_unknown_word())
def test_a_no_with_an_unknown_word_leaves_every_factor_of_the_question_open(question: str, reply: str) -> None:
    screening = turn(reply, asked(question), answering=True).screening
    assert all(screening.status(f.id) != Status.ABSENT for f in POLICY.question(question).asked), reply


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(QUESTIONS), shared_sentence_with_a_word_swapped())
def test_a_real_answer_with_a_word_swapped_settles_only_what_it_plainly_denies(question: str, reply: str) -> None:
    screening = turn(reply, asked(question), answering=True).screening
    absent = {f.id for f in POLICY.question(question).asked if screening.status(f.id) == Status.ABSENT}
    assert absent <= absent_by_name(reply), reply


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ASKED_FACTORS), reply_with_an_unknown_word(FOLLOW_UP_CUES))
def test_a_follow_up_answered_with_an_unknown_word_is_never_a_no(factor: str, reply: str) -> None:
    follow_up = Screening().with_status([factor], Status.PENDING).with_prompt(Prompt((factor,)))
    assert turn(reply, follow_up, answering=True).screening.status(factor) != Status.ABSENT, reply


POLITE = ["", " thanks", " thank you", " x", " lol", " 🙂", " please", "!"]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(QUESTIONS),
    st.sampled_from(["no", "nope", "nah", "none of those", "nothing like that", "no, none", "not at all", "never"]),
    st.sampled_from(POLITE),
    st.sampled_from([str, str.lower, str.upper, str.capitalize]),
)
def test_a_plain_denial_in_any_words_settles_the_question(question: str, denial: str, polite: str, case) -> None:
    reply = case(denial + polite)
    screening = turn(reply, asked(question), answering=True).screening
    assert all(screening.status(f.id) == Status.ABSENT for f in POLICY.question(question).asked), reply
