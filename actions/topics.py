"""What the assistant can talk about, as quick-reply buttons.

One catalogue for every button that leads to a topic: the "Did you mean…" buttons of the
fallback and the next-step buttons after answers (tests check the responses use these same
titles and payloads). Titles fit WhatsApp reply buttons (at most 20 characters).

FAQ topics are asked as a plain question rather than an intent payload: Rasa's `/intent`
payloads cannot name a retrieval key (`faq/pain`), so the question goes through NLU like
typed text and the response selector picks the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nlp.parse import selector_ranking
from nlp.text import normalise

WHATSAPP_BUTTON_TITLE_LIMIT = 20
WHATSAPP_BUTTON_LIMIT = 3


@dataclass(frozen=True)
class Topic:
    label: str  # an intent or "faq/<key>", as in docs/nlu-labels.md
    title: str  # the button's text
    payload: str  # what the button sends

    def button(self) -> dict[str, str]:
        return {"title": self.title, "payload": self.payload}


TOPICS: dict[str, Topic] = {
    topic.label: topic
    for topic in (
        Topic("faq/how_it_works", "How it works", "How does fractional laser rejuvenation work?"),
        Topic("faq/laser_types", "Laser types", "What types of laser do you use?"),
        Topic("faq/conditions_treated", "What it treats", "What can fractional laser treat?"),
        Topic("faq/body_areas", "Areas treated", "Which areas of the body can be treated?"),
        Topic("faq/downtime", "Recovery time", "How long is the recovery after the laser?"),
        Topic("faq/aftercare", "Aftercare", "How do I look after my skin post treatment?"),
        Topic("faq/preparation", "How to prepare", "How should I prepare before the laser treatment?"),
        Topic("faq/pain", "Does it hurt?", "Does the laser treatment hurt?"),
        Topic("faq/sessions", "Number of sessions", "How many sessions will I need?"),
        Topic("faq/results", "Results", "When will I see results and how long do they last?"),
        Topic("faq/side_effects", "Risks", "What are the risks and side effects?"),
        Topic("faq/suitability", "Who it suits", "Who is fractional laser suitable for?"),
        Topic("faq/alternatives", "Alternatives", "What are the alternatives to laser rejuvenation?"),
        Topic("faq/combinations", "Combining treatments", "Can the laser be combined with other treatments?"),
        Topic("faq/specialist", "Who treats me", "Who performs the treatment?"),
        Topic("faq/price", "Prices", "How much does it cost?"),
        Topic("clinic_info", "Opening hours", "/clinic_info"),
        Topic("start_screening", "Can I have it?", "/start_screening"),
        Topic("book_consultation", "Book consultation", "/book_consultation"),
        Topic("human_handoff", "Talk to a person", "/human_handoff"),
        Topic("bot_challenge", "Who am I talking to", "/bot_challenge"),
    )
}


def likely_topics(parse: dict, limit: int = 2) -> list[Topic]:
    """The topics the visitor most probably meant, best first, for a "Did you mean…" question.

    Walks the intent ranking; a retrieval intent contributes its best keys from the response
    selector, so an unclear FAQ question offers the two closest FAQ answers. A question about
    the visitor themself ("can I do it?") offers the pre-screen first.
    """
    scored: dict[str, float] = {}
    for intent in parse.get("intent_ranking") or []:
        name, confidence = intent.get("name"), float(intent.get("confidence") or 0.0)
        keys = selector_ranking(parse, name)
        if keys:
            for key in keys[:limit]:
                label = key["intent_response_key"]
                scored.setdefault(label, confidence * float(key.get("confidence") or 0.0))
        elif name:
            scored.setdefault(name, confidence)
    ranked = sorted((label for label in scored if label in TOPICS), key=scored.__getitem__, reverse=True)
    if asks_about_themselves(parse.get("text") or ""):
        ranked = ["start_screening", *(label for label in ranked if label != "start_screening")]
    return [TOPICS[label] for label in ranked[:limit]]


# "can I do it?", "should I…?", "is it ok for me…?": when such a question is unclear, the
# likeliest meaning is "is it right for me", which the pre-screen answers safely.
PERSONAL_QUESTION = re.compile(
    r"^\W*(can|could|may|should|would|am|do|will) i\b|^\W*is (it|this|that) (ok|okay|safe|fine|right) for me\b"
)


def asks_about_themselves(text: str) -> bool:
    return bool(PERSONAL_QUESTION.search(normalise(text)))
