"""The conversations that found the last round's failures (issue 19), as visitor profiles in the
shared format (tests/screening/replay.py plays them), for the end-to-end tests on every channel."""

from __future__ import annotations

from typing import Any

CHECK_ME = "can you check if I'm suitable for the laser?"


def profile(name: str, expect: str, opening: str = CHECK_ME, late: str | None = None, **facts: str) -> dict[str, Any]:
    return {"id": name, "mode": "text", "opening": opening, "facts": facts, "expect": expect, "late": late}


UNSAFE_BEFORE = [
    profile(
        "breastfeeding_corrected",
        "not_suitable",
        breastfeeding="no — wait sorry i AM breastfeeding, misread that. my son's 7 months",
    ),
    profile("mum_has_it", "not_eligible", vitiligo="not me no but my mum has it on her face and hands"),
    profile(
        "changed_mole",
        "not_eligible",
        cancer="no cancer that i know of but theres a mole on my cheek thats changed shape and gone darker lately",
    ),
    profile("type_2", "not_suitable", diabetes="no not on insulin or anything my type 2 is diet controlled"),
    profile(
        "sunbeds_stopped",
        "not_suitable",
        opening="I used to go on the sunbeds every week but stopped a fortnight ago because of the laser. "
        "Am I ok to go ahead?",
    ),
    profile("late_cold_sore", "not_suitable", late="sorry, I forgot to say I have a cold sore on my lip right now"),
    profile(
        "late_said_no", "not_eligible", late="Sorry, I said no to the cold sore question but I do actually get them"
    ),
]
WRONG_OR_STUCK_BEFORE = [
    profile("pale", "eligible", tan="no, I'm pale and I burn rather than tan"),
    profile("stepdad", "eligible", vitiligo="my stepdad has vitiligo but hes not my real dad"),
    profile("insulin", "not_suitable", diabetes="I inject insulin with every meal"),
    profile("bf_shorthand", "not_suitable", breastfeeding="still bf'ing my lo 🤱 shes 5mo"),
    profile("c_sore", "not_suitable", herpes="c sore on my lip rn 😩"),
    profile(
        "ramipril", "not_eligible", hypertension="not anymore since I've been on ramipril, it's well controlled now"
    ),
]
# A healthy visitor in words the screen cannot place: no loop, and an outcome (a clinician's review).
CRETE = profile("crete", "not_eligible", tan="not since a holiday in Crete over a year ago")
ALL = [*UNSAFE_BEFORE, *WRONG_OR_STUCK_BEFORE, CRETE]
