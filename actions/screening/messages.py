"""What the visitor reads about the screen: the consent request and each outcome, kindly.

Plain Python so tests can check every wording rule: each bubble fits a chat message, every
outcome says it is not a diagnosis, and nothing told to a contraindicated visitor sounds
like a green light.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from actions.screening.evaluator import Outcome, Prompt, Screening, Status
from actions.screening.policy import Factor, Policy, Tier
from actions.topics import TOPICS

NOT_A_DIAGNOSIS = "This is not a diagnosis: a clinician confirms it at your consultation."
YES_NO_BUTTONS = [
    {"title": "Yes", "payload": "/affirm"},
    {"title": "No", "payload": "/deny"},
    {"title": "Not sure", "payload": "I'm not sure"},
]
CONSENT_BUTTONS = [
    {"title": "Yes, I agree", "payload": "/affirm"},
    {"title": "No, thanks", "payload": "/deny"},
]
CONSENT_REQUEST = (
    "Before I ask about your health: I'll ask up to 8 short yes/no questions to see whether "
    "anything rules out laser treatment for you. Your answers are kept with this conversation "
    "for the clinic's clinicians, and only used to prepare your consultation. It is not a "
    "diagnosis, and you can stop at any time.\n\nDo you agree to answer health questions?"
)
OFFER_SCREEN = "If you'd like, I can check your own situation with a few short questions."


@dataclass(frozen=True)
class Reply:
    texts: list[str]
    buttons: list[dict[str, str]] = field(default_factory=list)


BUBBLE_LIMIT = 600


def _bubbles(header: str, lines: list[str]) -> list[str]:
    """The header and bullet points, split into chat bubbles of at most BUBBLE_LIMIT characters."""
    bubbles = [header]
    for line in lines:
        bullet = f"• {line}"
        if len(bubbles[-1]) + 1 + len(bullet) > BUBBLE_LIMIT:
            bubbles.append(bullet)
        else:
            bubbles[-1] += "\n" + bullet
    return bubbles


def _explanations(outcome: Outcome) -> list[str]:
    lines = list(dict.fromkeys(f.explanation for f in outcome.factors))
    if outcome.unclear:
        lines.append("Some answers weren't clear, so a clinician will go through them with you.")
    return lines


def _come_back(outcome: Outcome) -> str:
    times = list(dict.fromkeys(f.come_back for f in outcome.factors if f.temporary))
    return f"You're very welcome to come back {' and '.join(times)}." if outcome.temporary else ""


def outcome_reply(outcome: Outcome) -> Reply:
    """The screen's result in plain words, with the next steps that outcome allows."""
    if outcome.tier == Tier.NOT_SUITABLE:
        return Reply(
            [
                *_bubbles(
                    "Thank you for telling me. I'm sorry, but laser rejuvenation isn't possible for you at the moment:",
                    _explanations(outcome),
                ),
                " ".join(
                    part
                    for part in (
                        _come_back(outcome),
                        "This is not a diagnosis, and a clinician can talk it through with you.",
                        "We can't book laser treatment for now, but I can tell you about other options, "
                        "or a member of our team can call you.",
                    )
                    if part
                ),
            ],
            [TOPICS["faq/alternatives"].button(), TOPICS["human_handoff"].button()],
        )
    if outcome.tier == Tier.CLINICIAN_REVIEW:
        return Reply(
            [
                *_bubbles(
                    "Thank you. Some of your answers mean a clinician should review them before any laser treatment:",
                    _explanations(outcome),
                ),
                f"{NOT_A_DIAGNOSIS} You can book a consultation, flagged for a clinician to review your "
                "answers, or ask our team to call you.",
            ],
            [TOPICS["book_consultation"].button(), TOPICS["human_handoff"].button()],
        )
    if outcome.tier == Tier.ELIGIBLE:
        return Reply(
            [
                "Thank you! From your answers, nothing on our list rules out fractional laser rejuvenation "
                f"for you. {NOT_A_DIAGNOSIS} Would you like to book one?"
            ],
            [TOPICS["book_consultation"].button(), TOPICS["faq/price"].button()],
        )
    return Reply(["Thanks. We haven't finished the questions yet."], [TOPICS["start_screening"].button()])


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def prompt_text(policy: Policy, screening: Screening, prompt: Prompt) -> str:
    """The question as the visitor reads it, asking only for what is still unknown.

    A whole question is numbered by its place in the policy ("2/8: …"), so asking it again
    shows the same number. A doubt is confirmed with "Just to check: …", and a question part of
    which the visitor already answered in their own words starts "Apart from the … you mentioned".
    """
    if prompt.question is None:
        return "Just to check: " + _lower_first(policy.confirmation(policy.factor(prompt.factors[0])))
    question = policy.question(prompt.question)
    text = question.asking(prompt.factors)
    told = [
        screening.noted[f.id]
        for f in question.factors
        if screening.status(f.id) == Status.PRESENT and f.id in screening.noted
    ]
    if told:
        text = f"Apart from the {' and '.join(dict.fromkeys(told))} you mentioned, {_lower_first(text)}"
    position = [q.id for q in policy.questions].index(question.id) + 1
    return f"{position}/{len(policy.questions)}: {text}"


def general_facts_reply(facts: list[Factor], offer: bool) -> Reply:
    """For a question about a condition in general: the fact, and the offer to check the visitor's own case."""
    lines = list(dict.fromkeys(f.explanation for f in facts))
    if not offer:
        return Reply([" ".join(lines)])
    return Reply([" ".join([*lines, OFFER_SCREEN])], [TOPICS["start_screening"].button()])


NO_CONSENT = Reply(
    [
        "No problem: I won't ask any health questions. A clinician can go through your health "
        "with you at a consultation, or a member of our team can call you."
    ],
    [TOPICS["book_consultation"].button(), TOPICS["human_handoff"].button()],
)

REMINDER = {
    Tier.NOT_SUITABLE: "As I mentioned, we can't go ahead with laser treatment for now. "
    "I can tell you about other options, or a member of our team can call you.",
    Tier.CLINICIAN_REVIEW: "As I mentioned, a clinician needs to review your answers before any laser treatment.",
}


def booking_updated(references: list[str]) -> str:
    """After a new outcome, for a visitor who had already booked."""
    named = " and ".join(references)
    return (
        f"I've told the clinic about this for your booking {named}, so a member of the team will "
        "check it with you before any laser treatment."
    )
