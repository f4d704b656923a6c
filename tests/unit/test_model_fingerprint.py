"""`make run` retrains exactly when the training inputs change."""

from __future__ import annotations

import shutil
from pathlib import Path

from tools.model import PROJECT_ROOT, TRAINING_INPUTS, fingerprint


def copy_inputs(target: Path) -> None:
    for name in TRAINING_INPUTS:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target / name)


def test_fingerprint_changes_with_training_data_only(tmp_path: Path) -> None:
    copy_inputs(tmp_path)
    before = fingerprint(tmp_path)
    assert fingerprint(tmp_path) == before

    (tmp_path / "README.md").write_text("docs do not need a new model")
    assert fingerprint(tmp_path) == before

    rules = tmp_path / "data" / "rules" / "conversation.yml"
    rules.write_text(rules.read_text() + "\n")
    assert fingerprint(tmp_path) != before
