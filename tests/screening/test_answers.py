"""Closed-world answers (actions/screening/answers.py, core.py): a "no" settles only what a plain
denial says; everything else is asked about on its own, and stays open or goes to a clinician.
Every reply is read by the real spaCy pipeline, as production reads it."""

from __future__ import annotations

import pytest

from actions.screening.answers import plainly_a_request
from actions.screening.core import ask_next, late_addition
from actions.screening.evaluator import Prompt, Screening, Status, evaluate
from actions.screening.messages import prompt_text
from actions.screening.policy import Tier, default_policy
from tests.screening.reader import read, turn

POLICY = default_policy()
QUESTION_IDS = [q.id for q in POLICY.questions]


def asked(question_id: str) -> Screening:
    """A screening waiting for the answer to one whole question, earlier ones answered no."""
    screening = Screening()
    for earlier in QUESTION_IDS[: QUESTION_IDS.index(question_id)]:
        factors = [f.id for f in POLICY.question(earlier).asked]
        screening = screening.with_status(factors, Status.ABSENT)
    screening = ask_next(POLICY, screening)
    assert screening.prompt.question == question_id
    return screening


def follow_up(factor_id: str) -> Screening:
    return Screening().with_status([factor_id], Status.PENDING).with_prompt(Prompt((factor_id,)))


def answer(reply: str, screening: Screening, intent: str | None = None) -> Screening:
    return turn(reply, screening, intent=intent, answering=True).screening


def statuses(screening: Screening, question_id: str) -> set[Status | None]:
    return {screening.status(f.id) for f in POLICY.question(question_id).asked}


@pytest.mark.parametrize(
    "reply",
    ["no", "No.", "nope", "nah", "n", "Nooo", "no thanks", "no thank you x", "none of those", "nothing like that",
     "no to all of those", "not at all", "nope 😂 definitely not", "neither", "no, none of them", "no, never",
     "absolutely not", "no I don't", "no i haven't got any", "no, nothing whatsoever", "none of the above lol"],
)  # fmt: skip
def test_a_plain_denial_answers_the_whole_question(reply: str) -> None:
    for question_id in QUESTION_IDS:
        assert statuses(answer(reply, asked(question_id)), question_id) == {Status.ABSENT}, question_id


def test_a_button_no_is_a_plain_denial() -> None:
    assert statuses(answer("/deny", asked("medicines"), intent="deny"), "medicines") == {Status.ABSENT}


@pytest.mark.parametrize(
    ("reply", "denied"),
    [
        ("not pregnant not breastfeeding nothing like that", {"pregnancy", "breastfeeding"}),
        ("no, definitely not pregnant or breastfeeding", {"pregnancy", "breastfeeding"}),
        ("I'm not pregnant", {"pregnancy"}),
    ],
)
def test_names_denied_plainly_settle_those_names(reply: str, denied: set[str]) -> None:
    screening = answer(reply, asked("pregnancy"))
    assert {f for f in ("pregnancy", "breastfeeding") if screening.status(f) == Status.ABSENT} == denied
    assert all(screening.status(f) is None for f in {"pregnancy", "breastfeeding"} - denied)


def test_a_denial_of_some_names_asks_the_rest_of_the_question() -> None:
    screening = ask_next(POLICY, answer("no diabetes no cancer", asked("serious_conditions")))
    assert screening.status("diabetes") == screening.status("cancer") == Status.ABSENT
    assert prompt_text(POLICY, screening, screening.prompt) == "2/8: Do you have severe high blood pressure?"


# Each is more than a plain denial, in one of the ways the issue lists: none may settle the rest.
NOT_PLAIN = [
    ("no but my mum has it on her face", "skin_conditions"),  # but, family, pronoun, body part
    ("no, though I get a bit of a rash sometimes", "active_skin"),  # though
    ("none apart from the one on my lip", "active_skin"),  # apart from, pronoun
    ("no except my zovirax cream", "cold_sores"),  # except, a medicine
    ("no only my tablets", "medicines"),  # only
    ("no just the usual", "medicines"),  # just
    ("no wait", "pregnancy"),  # a correction
    ("no - sorry, misread that", "pregnancy"),
    ("actually no, I mean", "pregnancy"),
    ("not me no", "skin_conditions"),  # someone else
    ("no, that's my sister", "skin_conditions"),
    ("no not that one", "serious_conditions"),  # a pointer
    ("no, used to", "serious_conditions"),  # a time
    ("stopped a fortnight ago", "active_skin"),
    ("no, till March", "medicines"),
    ("no, on metformin though", "serious_conditions"),  # a medicine
    ("no, my cheeks", "active_skin"),  # a body part
    ("nah my sugars grand", "serious_conditions"),  # words the reading cannot place
    ("no quorzle", "other_health"),
    ("no term", "other_health"),  # a word that once stood for a term inside the reading
    ("no?", "pregnancy"),  # a question back
]


@pytest.mark.parametrize(("reply", "question_id"), NOT_PLAIN)
def test_a_reply_that_is_more_than_a_plain_no_settles_nothing_it_did_not_name(reply: str, question_id: str) -> None:
    screening = answer(reply, asked(question_id))
    assert Status.ABSENT not in statuses(screening, question_id)
    assert evaluate(POLICY, screening).tier != Tier.ELIGIBLE


def test_what_a_reply_leaves_open_is_asked_one_factor_at_a_time_with_yes_no_buttons() -> None:
    screening = ask_next(POLICY, answer("not me no but my mum has it on her face and hands", asked("skin_conditions")))
    assert screening.prompt.asks_as(Prompt(("psoriasis",)))
    assert prompt_text(POLICY, screening, screening.prompt) == "Just to check: do you have psoriasis?"


@pytest.mark.parametrize(
    ("factor", "reply"),
    [
        ("vitiligo_family", "no, not in my family, it's only my husband who has it"),
        ("vitiligo_family", "no, only my girlfriend's mum, and we're not related"),
        ("vitiligo_family", "my stepdad has it but he's not my real dad"),
        ("vitiligo_family", "no, my mother-in-law does"),
        ("cancer", "no never, it's my husband who has cancer not me"),
        ("cancer", "me no. my mum had bowel cancer but shes fine now"),
        ("diabetes", "dad has type 2, not me"),
        ("severe_hypertension", "no, my blood pressure is fine"),
        ("diabetes", "sugar levels are all normal, my yearly bloods came back perfect"),
        ("breastfeeding", "no, I stopped breastfeeding about six years ago"),
        ("isotretinoin", "only as a teenager, so about twenty years ago, nothing since"),
        ("isotretinoin", "no, I took Roaccutane about 10 years ago at uni, nothing since"),
        ("recent_tan", "no I'm pale, I burn rather than tan"),
        ("pregnancy", "nope 😂 definitely not"),
        ("psoriasis", "no, that's my colleague, my own skin has always been fine"),
        ("anticoagulants", "no meds at all"),
        ("severe_hypertension", "bp is fine, my mums the one with the heart stuff"),
        ("isotretinoin", "had roaccutane as a teenager, im 31 now"),
        ("vitiligo_family", "my uncle's wife has it, but she's not blood family. none of my blood relatives have it"),
        ("recent_tan", "no, I wear sunscreen every day"),
        ("breastfeeding", "no, my kids are at university"),
        ("diabetes", "no, my sugars are fine"),
    ],
)
def test_a_follow_up_answered_with_a_clear_no_in_more_words_is_a_no(factor: str, reply: str) -> None:
    assert answer(reply, follow_up(factor)).status(factor) == Status.ABSENT


@pytest.mark.parametrize(
    ("factor", "reply"),
    [
        ("vitiligo_family", "not me no but my mum has it on her face and hands"),
        ("vitiligo_family", "no, my sister has a few white patches"),
        ("diabetes", "no not on insulin or anything my type 2 is diet controlled"),
        ("diabetes", "no my sugar's a bit high"),
        ("severe_hypertension", "not anymore since I've been on ramipril, it's well controlled now"),
        ("recent_tan", "I used to go on the sunbeds every week but stopped a fortnight ago"),
        ("recent_tan", "no, not since last week"),
        ("recent_tan", "not since a holiday in Crete"),
        ("isotretinoin", "no, I finished it in the spring"),
        ("keloid", "no, not since I was a teenager"),
        ("active_cold_sore", "no, I do"),
        ("active_cold_sore", "no, I've got one"),
        ("active_cold_sore", "no but it's nearly healed"),
        ("pregnancy", "no - wait, sorry, I AM pregnant"),
        ("pregnancy", "not officially"),
        ("breastfeeding", "no, the baby's 3 months"),
        ("anticoagulants", "no, I'm on it now"),
        ("anticoagulants", "only a low dose aspirin"),
        ("radiation", "no only xrays at the dentist"),
        ("severe_hypertension", "not fine"),
        ("severe_hypertension", "no, my blood pressure isn't normal"),
        ("diabetes", "my sugar is not good"),
        ("vitiligo_family", "my uncle has it, and my uncle's wife"),
        ("isotretinoin", "had roaccutane this spring"),
        ("recent_tan", "no good"),
    ],
)
def test_a_follow_up_answered_unclearly_goes_to_a_clinician_or_worse(factor: str, reply: str) -> None:
    status = answer(reply, follow_up(factor)).status(factor)
    assert status in (Status.UNSURE, Status.PRESENT)


def test_a_correction_wins_over_the_no_it_corrects() -> None:
    screening = answer("no — wait sorry i AM breastfeeding, misread that. my son's 7 months", asked("pregnancy"))
    assert screening.status("breastfeeding") == Status.PRESENT
    assert evaluate(POLICY, screening).tier == Tier.NOT_SUITABLE


def eligible_after_screen() -> Screening:
    screening = Screening()
    while (screening := ask_next(POLICY, screening)).prompt is not None:
        screening = answer("no", screening)
    assert evaluate(POLICY, screening).tier == Tier.ELIGIBLE
    return screening


@pytest.mark.parametrize(
    ("message", "tier"),
    [
        ("sorry, I forgot to say I have a cold sore on my lip right now", Tier.NOT_SUITABLE),
        ("I forgot to mention: my piercing is sore and swollen. Is that a problem?", Tier.CLINICIAN_REVIEW),
        ("c sore on my lip rn 😩", Tier.NOT_SUITABLE),
        ("Sorry, I said no to the cold sore question but I do actually get them", Tier.CLINICIAN_REVIEW),
        ("I said no to the sunburn question but my nose is still red from last weekend", Tier.CLINICIAN_REVIEW),
        ("oh I forgot to mention something from my last operation", Tier.CLINICIAN_REVIEW),
        ("sorry I answered one of those wrong", Tier.CLINICIAN_REVIEW),
        ("I pressed the wrong button earlier", Tier.CLINICIAN_REVIEW),
    ],
)
def test_after_the_outcome_a_late_disclosure_or_correction_changes_it(message: str, tier: Tier) -> None:
    assert evaluate(POLICY, late_addition(POLICY, eligible_after_screen(), read(message))).tier == tier


@pytest.mark.parametrize(
    "message",
    ["thanks!", "how much is it?", "sorry, what's the price again?", "ok great", "bye", "what could go wrong?"],
)
def test_after_the_outcome_other_messages_leave_it_alone(message: str) -> None:
    assert evaluate(POLICY, late_addition(POLICY, eligible_after_screen(), read(message))).tier == Tier.ELIGIBLE


def test_a_correction_towards_healthy_never_lowers_an_outcome() -> None:
    ruled_out = answer("yes I'm diabetic", asked("serious_conditions"))
    corrected = late_addition(POLICY, ruled_out, read("sorry, I misread, I'm not diabetic"))
    assert evaluate(POLICY, corrected).tier == Tier.NOT_SUITABLE


@pytest.mark.parametrize(
    "replies",
    [
        ["no skin conditions"] * 4,  # denies one name, again and again
        ["yes, roaccutane"] * 4,
        ["no, but does it hurt?", "and does it swell?", "and how long does it take?", "no"],
    ],
)
def test_no_question_is_asked_a_third_time(replies: list[str]) -> None:
    screening = asked("skin_conditions" if "skin" in replies[0] else "medicines")
    seen: list[str] = []
    for reply in replies:
        seen.append(prompt_text(POLICY, screening, screening.prompt))
        screening = ask_next(POLICY, answer(reply, screening, intent="faq" if "?" in reply else None))
        if screening.prompt is None:
            break
    assert max(seen.count(text) for text in seen) <= 2, seen


@pytest.mark.parametrize(
    ("intent", "message", "plain"),
    [
        ("stop", "stop", True),
        ("stop", "I don't want to answer these", True),
        ("stop", "not anymore since I've been on ramipril, it's well controlled now", False),
        ("faq", "how long is the downtime?", True),
        ("faq", "not since a holiday in Crete over a year ago", False),
        ("human_handoff", "can I talk to a person", True),
        ("human_handoff", "no, my husband's sister, he's not related to me", False),
        ("erase_my_data", "please delete my data", True),
        ("erase_my_data", "delete everything, I'm pregnant and changed my mind", True),
        ("erase_my_data", "my late wife had the cancer, God rest her, but I myself never had such disease", False),
        ("human_handoff", "no, the doctor said it was contact dermatitis from my earrings", False),
        ("book_consultation", "no, only on the holiday I booked", False),
        ("book_consultation", "can I book a consultation?", True),
        ("bot_challenge", "Yes, actually today I feel the tingling on the lip", False),
        ("bot_challenge", "am I talking to a bot?", True),
        ("clinic_info", "where are you located?", True),
    ],
)
def test_a_request_heard_in_an_answer_interrupts_only_when_plainly_asked(
    intent: str, message: str, plain: bool
) -> None:
    assert plainly_a_request(intent, read(message, intent)) is plain


def test_a_follow_up_met_with_side_questions_is_asked_at_most_twice() -> None:
    screening, seen = ask_next(POLICY, follow_up("keloid")), []
    for _ in range(4):
        seen.append(prompt_text(POLICY, screening, screening.prompt))
        screening = ask_next(POLICY, answer("sort of? my ear piercing scar went lumpy", screening, intent="faq"))
        if screening.prompt is None or not screening.prompt.asks_as(Prompt(("keloid",))):
            break
    assert len(seen) <= 2 and screening.status("keloid") == Status.UNSURE
