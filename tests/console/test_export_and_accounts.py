"""Corrections exported as training data, and accounts made from the command line."""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta

import yaml

from actions import records
from console import accounts
from console.export import corrected_story, labels, nlu_yaml
from console.models import Relabel
from tests.databases import migrate
from tools.servers import PROJECT_ROOT


def relabel(text: str, corrected: str) -> Relabel:
    return Relabel(conversation_id="c", event_id=1, text=text, corrected=corrected, author="t")


def test_labels_are_the_domain_intents_and_every_faq_answer() -> None:
    offered = labels()
    assert {"human_handoff", "start_screening", "faq/price", "faq/aftercare"} <= set(offered)
    assert "faq" not in offered and "nlu_fallback" not in offered


def test_nlu_export_groups_examples_by_label_once_each_without_annotation_markup() -> None:
    exported = nlu_yaml(
        [
            relabel("how much for [both] cheeks?", "faq/price"),
            relabel("how much for [both] cheeks?", "faq/price"),
            relabel("can a human call me", "human_handoff"),
            relabel("/affirm", "affirm"),  # a button payload is not an example
        ]
    )
    data = yaml.safe_load(exported)
    assert data["version"] == "3.1"
    assert data["nlu"] == [
        {"intent": "faq/price", "examples": "- how much for both cheeks?\n"},
        {"intent": "human_handoff", "examples": "- can a human call me\n"},
    ]


def test_a_story_gets_the_corrected_intent_for_the_relabelled_message_only() -> None:
    story = (
        'version: "3.1"\nstories:\n- story: s\n  steps:\n  - intent: faq\n    user: |-\n'
        '      can I go on a [sunbed]{"entity": "CONDITION", "value": "sunburn_tan"} after\n'
        "  - action: utter_faq\n  - intent: greet\n    user: |-\n      hi\n"
    )
    fixed = yaml.safe_load(corrected_story(story, [relabel("can I go on a sunbed after", "faq/aftercare")]))
    steps = fixed["stories"][0]["steps"]
    assert [step.get("intent") for step in steps] == ["faq/aftercare", None, "greet"]
    assert "[sunbed]" in steps[0]["user"]  # the entity annotation stays for the test


def test_make_staff_user_creates_an_account_that_can_log_in_and_rejects_a_bad_role(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'records.db'}"
    env = {**os.environ, "DATABASE_URL": url, "STAFF_PASSWORD": "a-long-password"}
    made = subprocess.run(
        ["make", "--no-print-directory", "staff-user", "NAME=anna", "ROLE=clinician"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0 and "Created clinician account 'anna'" in made.stdout, made.stderr
    assert accounts.log_in("anna", "a-long-password", url).account.role == "clinician"
    short = subprocess.run(
        ["make", "--no-print-directory", "staff-user", "NAME=bo", "ROLE=staff"],
        cwd=PROJECT_ROOT, env={**env, "STAFF_PASSWORD": "short"}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert short.returncode != 0 and "at least 10 characters" in short.stderr
    wrong_role = subprocess.run(
        ["make", "--no-print-directory", "staff-user", "NAME=bo", "ROLE=boss"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert wrong_role.returncode != 0 and "invalid choice" in wrong_role.stderr


def test_a_lock_ends_by_itself_and_a_success_resets_the_count(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'records.db'}"
    migrate(url)
    accounts.save_account("cy", "staff", "right-password", actor="tests", url=url)
    now = records.utcnow()
    for _ in range(accounts.MAX_FAILURES):
        accounts.log_in("cy", "wrong-password", url, now=now)
    assert not accounts.log_in("cy", "right-password", url, now=now).ok
    later = now + timedelta(minutes=accounts.LOCK_MINUTES, seconds=1)
    assert accounts.log_in("cy", "right-password", url, now=later).ok
    for _ in range(accounts.MAX_FAILURES - 1):
        accounts.log_in("cy", "wrong-password", url, now=later)
    assert accounts.log_in("cy", "right-password", url, now=later).ok  # four failures, then success
    assert accounts.log_in("cy", "wrong-password", url, now=later).locked_until is None
