"""Which trained model belongs to the current training data.

A model is named after a hash of everything training reads (config, domain, data and the
spaCy pipeline's source), so `make run` and `make test` retrain exactly when one of those
changed and otherwise reuse the model on disk, without starting Rasa to find out.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MODELS_DIR = PROJECT_ROOT / "models"
TRAINING_INPUTS = ("config.yml", "domain.yml", "data", "nlp")


def _files(root: Path, inputs: Iterable[str]) -> Iterable[Path]:
    for name in inputs:
        path = root / name
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        elif path.exists():
            yield path


def fingerprint(root: Path = PROJECT_ROOT) -> str:
    digest = hashlib.sha256()
    for path in _files(root, TRAINING_INPUTS):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def model_name() -> str:
    return f"clinic-{fingerprint()}"


def model_path() -> Path:
    return MODELS_DIR / f"{model_name()}.tar.gz"


def main(argv: list) -> int:
    """`python -m tools.model name|path|stale`: `stale` exits 0 when the model must be (re)trained."""
    command = argv[1] if len(argv) > 1 else "path"
    if command == "name":
        print(model_name())
    elif command == "path":
        print(model_path().relative_to(PROJECT_ROOT))
    elif command == "stale":
        return 0 if not model_path().exists() else 1
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
