"""How the clinic's rules see a message's text (plain Python: the NLU components and the actions share it)."""

from __future__ import annotations


def normalise(text: str) -> str:
    """Lower case with straight apostrophes: what the patterns and context rules are written in.

    Phones type curly apostrophes ("crow’s feet"), and spaCy's tokenizer splits "I HAVE T1D."
    differently from "i have t1d.". One character for one, so entity offsets still point into
    the visitor's own text (lower-casing is skipped in the rare case it would change the length).
    """
    straight = text.replace("\u2019", "'").replace("\u2018", "'")
    lowered = straight.lower()
    return lowered if len(lowered) == len(straight) else straight
