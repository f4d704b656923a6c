"""Reading Rasa's parse results (plain Python, shared by NLU components and actions)."""

from __future__ import annotations

from typing import Any


def selector_ranking(parse: dict[str, Any], intent: str | None) -> list[dict[str, Any]]:
    """The response selector's ranking of keys for a retrieval intent (faq/pain, faq/price, …).

    Mirrors Rasa's ActionRetrieveResponse: the selector trained for this intent, else the
    "default" selector trained on all retrieval intents. Empty for ordinary intents.
    """
    selectors = parse.get("response_selector") or {}
    if not intent or intent not in selectors.get("all_retrieval_intents", []):
        return []
    selector = selectors.get(intent) or selectors.get("default") or {}
    prefix = f"{intent}/"
    return [r for r in selector.get("ranking", []) if str(r.get("intent_response_key", "")).startswith(prefix)]


def full_label(parse: dict[str, Any]) -> str:
    """The intent, or for a retrieval intent the key the selector chose ("faq/pain")."""
    intent = (parse.get("intent") or {}).get("name") or "None"
    ranking = selector_ranking(parse, intent)
    return ranking[0]["intent_response_key"] if ranking else intent


FALLBACK_INTENT = "nlu_fallback"


def understood_label(parse: dict[str, Any]) -> str:
    """What the classifiers understood before the fallback classifier stepped in.

    The fallback classifier replaces the intent with nlu_fallback and puts it first in the
    ranking; the classifiers' own best guess is the next entry.
    """
    intent = (parse.get("intent") or {}).get("name")
    if intent != FALLBACK_INTENT:
        return full_label(parse)
    guesses = [i for i in parse.get("intent_ranking") or [] if i.get("name") != FALLBACK_INTENT]
    if not guesses:
        return FALLBACK_INTENT
    return full_label({**parse, "intent": guesses[0]})
