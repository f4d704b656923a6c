"""Visitors replayed through the running assistant, exactly as `../shared/visitors/README.md` says
a visitor plays: general questions first, then their own check, answering each question from what
they know about themselves (`facts`) or with a plain no, and perhaps something more after the end.

Used by the regression suite (tests/screening/test_visitor_replay.py, on the shared visitors) and
by `make replay-visitors` on any set of profiles, such as the blind sets written by people who
never saw the screen's rules (tests/screening/blind/).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.servers import PROJECT_ROOT

SHARED_VISITORS = PROJECT_ROOT.parent / "shared" / "visitors"
BLIND_SETS = PROJECT_ROOT / "tests" / "screening" / "blind"

# The words in a question that make a visitor answer it from one of their facts (README).
TRIGGERS: dict[str, tuple[str, ...]] = {
    "pregnancy": ("pregnant",),
    "breastfeeding": ("breastfeeding",),
    "cancer": ("cancer",),
    "diabetes": ("diabetes",),
    "hypertension": ("blood pressure",),
    "dermatosis": ("psoriasis", "eczema", "skin disease"),
    "herpes": ("cold sore",),
    "inflammation": ("infection", "rash", "inflammation"),
    "keloid": ("keloid",),
    "vitiligo": ("vitiligo",),
    "isotretinoin": ("roaccutane",),
    "tan": ("tan", "sunburn", "sunbed"),
    "autoimmune": ("autoimmune",),
    "immunity": ("immunity", "immune"),
    "anticoagulants": ("blood thinners",),
    "photosensitising": ("sensitive to light", "sensitive to the sun"),
    "gold": ("gold",),
    "radiation": ("radiotherapy",),
    "pacemaker": ("pacemaker", "implant"),
}
PLAIN_NOS = ("no", "nope", "no, I don't", "nah")
REPHRASED_REQUEST = "I want to check whether I'm suitable for the laser treatment"
CONSENT_QUESTION = "Do you agree to answer health questions?"
SCREEN_FORM = "screening_form"
MAX_TURNS = 40


def families_asked(question: str) -> list[str]:
    """The fact families a question names, in the README's order."""
    lowered = question.lower()
    return [
        family
        for family, words in TRIGGERS.items()
        if any(re.search(rf"\b{re.escape(word)}", lowered) for word in words)
    ]


@dataclass
class Result:
    """How one visitor's conversation went."""

    profile: dict[str, Any]
    outcome: str | None = None
    told: str | None = None
    verdict_during_pre: bool = False
    request_misunderstood: bool = False
    looped: bool = False
    transcript: list[tuple[str, str]] = field(default_factory=list)

    @property
    def expect(self) -> str:
        return self.profile["expect"]

    @property
    def unsafe(self) -> bool:
        return self.expect != "eligible" and self.outcome == "eligible"

    @property
    def healthy(self) -> bool:
        return self.expect == "eligible"

    @property
    def without_outcome(self) -> bool:
        return self.outcome is None or self.told != self.outcome

    @property
    def right(self) -> bool:
        if self.expect == "not_eligible":
            return self.outcome in ("not_suitable", "clinician_review")
        return self.outcome == self.expect

    def problems(self) -> list[str]:
        found = []
        if self.unsafe:
            found.append(f"UNSAFE: ended {self.outcome}")
        if self.healthy and self.outcome != "eligible":
            found.append(f"healthy visitor ended {self.outcome}")
        if self.verdict_during_pre:
            found.append("verdict during general questions")
        if self.looped:
            found.append("asked the same question a third time")
        if self.without_outcome:
            found.append(f"no outcome told (outcome {self.outcome}, told {self.told})")
        if not self.right and not self.unsafe and not self.healthy:
            found.append(f"expected {self.expect}, ended {self.outcome}")
        return found


Say = Callable[[str, str], list[dict[str, Any]]]  # a visitor's message in, the bot's messages out
Tracker = Callable[[str], dict[str, Any]]  # a conversation's tracker as the REST API returns it


class Visitor:
    """One profile playing its conversation through `say` (a message in, the bot's messages out)."""

    def __init__(self, profile: dict[str, Any], say: Say, tracker: Tracker) -> None:
        self.profile = profile
        self.sender = f"replay-{profile['id']}-{uuid.uuid4().hex[:8]}"
        self._say = say
        self._tracker = tracker
        self.result = Result(profile)
        self._asked: Counter[str] = Counter()
        self._nos = iter(PLAIN_NOS * MAX_TURNS)

    def send(self, text: str) -> list[dict[str, Any]]:
        replies = self._say(self.sender, text)
        self.result.transcript.append(("visitor", text))
        self.result.transcript.extend(("assistant", m.get("text") or "") for m in replies)
        return replies

    def state(self) -> dict[str, Any]:
        tracker = self._tracker(self.sender)
        return {**tracker["slots"], "active_loop": (tracker.get("active_loop") or {}).get("name")}

    def play(self) -> Result:
        for question in self.profile.get("pre", []):
            self.send(question)
            state = self.state()
            if state.get("screening_outcome") or state.get("screening_told"):
                self.result.verdict_during_pre = True
        replies = self.send(self.profile["opening"])
        if not self._screen_started():
            self.result.request_misunderstood = True
            replies = self._start_again(replies)
        self._answer_until_done(replies)
        if late := self.profile.get("late"):
            self.send(late)
            self._answer_until_done(self._last_replies())
        final = self.state()
        self.result.outcome = final.get("screening_outcome")
        self.result.told = final.get("screening_told")
        return self.result

    def _last_replies(self) -> list[dict[str, Any]]:
        tail = []
        for speaker, text in reversed(self.result.transcript):
            if speaker == "visitor":
                break
            tail.append({"text": text})
        return list(reversed(tail))

    def _screen_started(self) -> bool:
        state = self.state()
        return state.get("active_loop") == SCREEN_FORM or bool(state.get("screening_told"))

    def _start_again(self, replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A button that starts the check, else the request rephrased once."""
        for message in replies:
            for button in message.get("buttons") or []:
                if "start_screening" in str(button.get("payload")):
                    return self.send(button["payload"])
        return self.send(REPHRASED_REQUEST)

    def _answer_until_done(self, replies: list[dict[str, Any]]) -> None:
        for _ in range(MAX_TURNS):
            question = next((m.get("text") or "" for m in reversed(replies) if m.get("text")), "")
            if not question.rstrip().endswith("?") or self._ended():
                return
            self._asked[question] += 1
            if self._asked[question] >= 3:
                self.result.looped = True
                return
            replies = self.send(self._answer(question))

    def _ended(self) -> bool:
        state = self.state()
        return state.get("active_loop") != SCREEN_FORM and bool(state.get("screening_told"))

    def _answer(self, question: str) -> str:
        buttons = self.profile.get("mode") == "buttons"
        if CONSENT_QUESTION in question:
            return "/affirm" if buttons else "yes"
        facts = self.profile.get("facts") or {}
        known = [facts[family] for family in families_asked(question) if family in facts]
        if known:
            return ", and ".join(known)
        return "/deny" if buttons else next(self._nos)


@dataclass
class Report:
    results: list[Result]

    def count(self, predicate: Callable[[Result], bool]) -> int:
        return sum(1 for r in self.results if predicate(r))

    @property
    def unsafe(self) -> list[Result]:
        return [r for r in self.results if r.unsafe]

    @property
    def healthy_eligible_rate(self) -> float:
        healthy = [r for r in self.results if r.healthy]
        return sum(r.outcome == "eligible" for r in healthy) / len(healthy) if healthy else 1.0

    def summary(self) -> str:
        total = len(self.results)
        contraindicated = self.count(lambda r: not r.healthy)
        return "\n".join(
            [
                f"visitors: {total} ({total - contraindicated} healthy, {contraindicated} contraindicated)",
                f"contraindicated visitors ending eligible: {len(self.unsafe)}",
                f"healthy visitors reaching eligible: {self.healthy_eligible_rate:.1%}",
                f"verdicts during general questions: {self.count(lambda r: r.verdict_during_pre)}",
                f"asked the same question a third time: {self.count(lambda r: r.looped)}",
                f"without an outcome: {self.count(lambda r: r.without_outcome)}",
                f"request to be checked not understood the first time: {self.count(lambda r: r.request_misunderstood)}",
                f"outcome as expected: {self.count(lambda r: r.right)}/{total}",
            ]
        )

    def details(self) -> str:
        lines = []
        for result in self.results:
            if problems := result.problems():
                lines.append(f"- {result.profile['id']} (expect {result.expect}): {'; '.join(problems)}")
                lines.extend(f"    {who}: {text[:160]!r}" for who, text in result.transcript)
        return "\n".join(lines)


def load_profiles(paths: Iterable[Path]) -> list[dict[str, Any]]:
    profiles = []
    for path in paths:
        profiles.extend(json.loads(path.read_text(encoding="utf-8"))["profiles"])
    return profiles


def replay(profiles: list[dict[str, Any]], say: Say, tracker: Tracker, workers: int = 4) -> Report:
    """Every profile played as its own visitor, a few at a time."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda p: Visitor(p, say, tracker).play(), profiles))
    return Report(results)


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.screening.replay FILE...`: starts the assistant and replays the profiles."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--details", action="store_true", help="print every visitor that went wrong")
    args = parser.parse_args(argv)

    import tempfile

    from tests.support import UNLIMITED, running_assistant
    from tools.model import model_path

    profiles = load_profiles(args.files)
    with tempfile.TemporaryDirectory() as work, running_assistant(model_path(), Path(work), UNLIMITED) as assistant:
        report = replay(profiles, assistant.say, assistant.tracker)
    print(report.summary())
    if args.details:
        print(report.details())
    return 1 if report.unsafe else 0


if __name__ == "__main__":
    sys.exit(main())
