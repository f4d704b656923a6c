"""policy.yml: the clinic's contraindications are all there, with the right tiers and sources."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from actions.screening.policy import POLICY_PATH, PolicyError, Tier, default_policy, load_policy

POLICY = default_policy()

# The clinic's own list (its documents, C1) is the minimum the screen enforces.
CLINIC_CONTRAINDICATIONS = [
    "pregnancy",
    "breastfeeding",
    "cancer",
    "diabetes",
    "severe_hypertension",
    "psoriasis",
    "dermatosis",
    "active_cold_sore",
    "skin_inflammation",
    "keloid",
    "vitiligo_family",
]
REFERENCE_FACTORS = {
    "isotretinoin": Tier.CLINICIAN_REVIEW,
    "recent_tan": Tier.NOT_SUITABLE,
    "cold_sore_history": Tier.CLINICIAN_REVIEW,
    "autoimmune": Tier.CLINICIAN_REVIEW,
    "weakened_immunity": Tier.CLINICIAN_REVIEW,
    "photosensitising_medication": Tier.CLINICIAN_REVIEW,
    "anticoagulants": Tier.CLINICIAN_REVIEW,
    "gold_therapy": Tier.CLINICIAN_REVIEW,
    "radiation": Tier.CLINICIAN_REVIEW,
    "melasma": Tier.CLINICIAN_REVIEW,
    "darker_skin": Tier.CLINICIAN_REVIEW,
}


@pytest.mark.parametrize("factor_id", CLINIC_CONTRAINDICATIONS)
def test_clinic_contraindications_rule_laser_out(factor_id: str) -> None:
    factor = POLICY.factor(factor_id)
    assert factor.tier == Tier.NOT_SUITABLE
    assert "C1" in factor.source


@pytest.mark.parametrize(("factor_id", "tier"), REFERENCE_FACTORS.items())
def test_reference_factors_have_their_tiers(factor_id: str, tier: Tier) -> None:
    assert POLICY.factor(factor_id).tier == tier


def test_temporary_factors_say_when_to_come_back() -> None:
    temporary = {f.id for f in POLICY.factors if f.temporary}
    assert {"pregnancy", "breastfeeding", "active_cold_sore", "recent_tan"} <= temporary
    assert all(POLICY.factor(f).come_back for f in temporary)


def test_every_factor_is_explained_and_sourced() -> None:
    for factor in POLICY.factors:
        assert factor.explanation.endswith(".") and factor.source


def test_questions_are_few_and_short() -> None:
    assert len(POLICY.questions) <= 8
    assert all(len(q.text) <= 250 for q in POLICY.questions)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda p: p["factors"][0].update(tier="maybe"), "tier must be"),
        (lambda p: p["factors"][0].update(question="nowhere"), "is not defined"),
        (lambda p: p["factors"][0].pop("source"), "'source' is missing"),
        (lambda p: p["factors"][0].pop("come_back"), "needs 'come_back'"),
        (lambda p: p["factors"][0]["matches"][0].update(who=["neighbour"]), "who"),
    ],
)
def test_mistakes_in_the_policy_file_are_refused(tmp_path: Path, edit, message: str) -> None:
    raw = yaml.safe_load(POLICY_PATH.read_text())
    edit(raw)
    broken = tmp_path / "policy.yml"
    broken.write_text(yaml.safe_dump(raw))
    with pytest.raises(PolicyError, match=message):
        load_policy(broken)
