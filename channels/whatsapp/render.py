"""One bot turn as WhatsApp messages that Meta accepts.

Rasa hands the channel one message at a time; WhatsApp readers see each as a separate
bubble and Meta throttles bursts to one user. So a turn is composed as a whole: texts are
merged into the message that carries the buttons (or into one text), options become reply
buttons (up to 3), a list (up to 10) or a numbered text that accepts the number as the
answer, and nothing exceeds Meta's documented limits (README, "WhatsApp").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

TEXT_LIMIT = 4096
BUTTON_BODY_LIMIT = 1024
BUTTON_COUNT_LIMIT = 3
BUTTON_TITLE_LIMIT = 20
BUTTON_ID_LIMIT = 256
LIST_ROW_LIMIT = 10
LIST_TITLE_LIMIT = 24
LIST_DESCRIPTION_LIMIT = 72
LIST_ID_LIMIT = 200
LIST_BUTTON_LABEL = "See options"
CHOOSE_PROMPT = "Please choose one:"
NUMBER_HINT = "Reply with a number."


@dataclass(frozen=True)
class Choice:
    title: str
    payload: str


@dataclass
class Outgoing:
    """One message for the Graph API (everything but the recipient)."""

    body: dict[str, Any]
    numbered: list[Choice] = field(default_factory=list)  # a numbered menu: "2" means numbered[1]

    @property
    def kind(self) -> str:
        return self.body.get("interactive", {}).get("type") or self.body["type"]


def shorten(title: str, limit: int) -> str:
    """Cuts at a word where possible and marks the cut, so a title still reads as words."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    cut = title[: limit - 1]
    if title[limit - 1] != " " and " " in cut[limit // 2 :]:  # the cut falls inside a word
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:-") + "…"


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters, broken between paragraphs, lines, sentences or words."""
    text = text.strip()
    pieces: list[str] = []
    while len(text) > limit:
        window = text[:limit]
        for separator in ("\n\n", "\n", ". ", " "):
            at = window.rfind(separator, limit // 2)
            if at > 0:
                cut = at + (1 if separator == ". " else 0)
                break
        else:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*pieces, text] if text else pieces


def choices_of(message: dict[str, Any]) -> list[Choice]:
    options = message.get("buttons") or message.get("quick_replies") or []
    choices = [(str(o.get("title") or "").strip(), str(o.get("payload") or "")) for o in options]
    return [Choice(title or payload, payload or title) for title, payload in choices if title or payload]


def text_of(message: dict[str, Any]) -> str:
    """The message's words; an image or attachment is sent as its link (the domain sends none today)."""
    parts = [message.get("text") or ""]
    parts += [message[key] for key in ("image", "attachment") if isinstance(message.get(key), str)]
    return "\n".join(part for part in parts if part).strip()


def text_message(text: str) -> Outgoing:
    return Outgoing({"type": "text", "text": {"body": text, "preview_url": False}})


def reply_buttons(body: str, choices: list[Choice]) -> Outgoing | None:
    """Reply buttons, or None when the options don't fit them without losing meaning."""
    titles = [shorten(choice.title, BUTTON_TITLE_LIMIT) for choice in choices]
    ids = [choice.payload for choice in choices]
    ids_fit = len(set(ids)) == len(ids) and all(0 < len(i) <= BUTTON_ID_LIMIT for i in ids)
    if len(choices) > BUTTON_COUNT_LIMIT or len(set(titles)) < len(titles) or not ids_fit:
        return None
    buttons = [{"type": "reply", "reply": {"id": c.payload, "title": t}} for c, t in zip(choices, titles, strict=True)]
    interactive = {"type": "button", "body": {"text": body}, "action": {"buttons": buttons}}
    return Outgoing({"type": "interactive", "interactive": interactive})


def list_message(body: str, choices: list[Choice]) -> Outgoing | None:
    """A list of up to 10 rows; a title too long for a row continues in the row's description."""
    if len(choices) > LIST_ROW_LIMIT:
        return None
    rows = []
    for choice in choices:
        title = shorten(choice.title, LIST_TITLE_LIMIT)
        row = {"id": choice.payload, "title": title}
        if title != " ".join(choice.title.split()):
            row["description"] = shorten(choice.title, LIST_DESCRIPTION_LIMIT)
        rows.append(row)
    ids, titles = [r["id"] for r in rows], [r["title"] for r in rows]
    if len(set(ids)) < len(ids) or len(set(titles)) < len(titles) or not all(0 < len(i) <= LIST_ID_LIMIT for i in ids):
        return None
    action = {"button": LIST_BUTTON_LABEL, "sections": [{"rows": rows}]}
    return Outgoing({"type": "interactive", "interactive": {"type": "list", "body": {"text": body}, "action": action}})


def numbered_menu(body: str, choices: list[Choice]) -> list[Outgoing]:
    """The fallback for anything else: the options as numbered lines; the number is the answer."""
    lines = [f"{number}. {choice.title}" for number, choice in enumerate(choices, start=1)]
    messages = [text_message(piece) for piece in split_text("\n\n".join([body, "\n".join(lines), NUMBER_HINT]))]
    messages[-1].numbered = choices
    return messages


def lead_and_body(text: str, limit: int) -> tuple[str, str]:
    """Splits off the last paragraph as the body when the whole text is too long to carry options."""
    text = text.strip() or CHOOSE_PROMPT
    if len(text) <= limit:
        return "", text
    lead, _, last = text.rpartition("\n\n")
    return (lead, last) if lead and len(last) <= limit else (text, CHOOSE_PROMPT)


def with_choices(text: str, choices: list[Choice]) -> list[Outgoing]:
    """Reply buttons if the options fit them, else a list, else a numbered menu; long text goes first."""
    for limit, build in ((BUTTON_BODY_LIMIT, reply_buttons), (TEXT_LIMIT, list_message)):
        lead, body = lead_and_body(text, limit)
        if message := build(body, choices):
            return [*(text_message(piece) for piece in split_text(lead)), message]
    return numbered_menu(text.strip() or CHOOSE_PROMPT, choices)


def compose_turn(messages: Iterable[dict[str, Any]]) -> list[Outgoing]:
    """The turn's messages, merged where that reads better and within Meta's limits.

    Consecutive texts join into one bubble, and texts before a message with options join it;
    whatever does not fit the options' body (1,024 characters for buttons) goes first as text.
    """
    composed: list[Outgoing] = []
    pending: list[str] = []
    for message in messages:
        text, choices = text_of(message), choices_of(message)
        if choices:
            composed.extend(with_choices("\n\n".join([*pending, text]), choices))
            pending.clear()
        elif text:
            pending.append(text)
    composed.extend(text_message(piece) for piece in split_text("\n\n".join(pending)))
    return composed
