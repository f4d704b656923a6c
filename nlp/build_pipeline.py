"""Build the clinic's spaCy pipeline (blank English + an entity ruler) and write it to disk.

`make setup` runs this; Rasa's `SpacyNLP` then loads the result by path (see config.yml).
The ruler tags clinical terms: CONDITION, MEDICATION, BODY_AREA and SKIN_CONCERN. Each match
carries the canonical id of its entry (e.g. "roacutane" -> isotretinoin) as `ent.ent_id_`,
which is what the assistant's rules work with. The `clinical_context` component (context.py)
then marks each term as denied or not, whose it is, and whether it is current.

To use a pretrained pipeline instead (a clinic with internet access), see README,
"Using en_core_web_md".
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

import spacy
import yaml
from spacy.language import Language

import nlp.context  # noqa: F401  (registers the clinical_context component)

PIPELINE_NAME = "clinic_en"
PIPELINE_VERSION = "1.0.0"
PATTERNS_DIR = Path(__file__).resolve().parent / "patterns"
DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "models" / "spacy" / PIPELINE_NAME


def load_patterns(patterns_dir: Path = PATTERNS_DIR) -> list[dict[str, object]]:
    """Entity-ruler patterns from every `*.yml` file: one phrase pattern per term."""
    patterns: list[dict[str, object]] = []
    for path in sorted(patterns_dir.glob("*.yml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        label = spec["label"]
        for entry in spec["entries"]:
            for term in entry["terms"]:
                patterns.append({"label": label, "pattern": str(term).lower(), "id": entry["id"]})
    return patterns


def with_full_stop_forms(patterns: list[dict[str, object]], nlp: Language) -> list[dict[str, object]]:
    """Adds "type v." for "type v": the tokenizer keeps a full stop on a single letter ("v.")."""
    extra = []
    for pattern in patterns:
        ending = str(pattern["pattern"]) + "."
        if nlp.make_doc(ending)[-1].text != ".":
            extra.append({**pattern, "pattern": ending})
    return patterns + extra


def build(patterns: Iterable[dict[str, object]]) -> Language:
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns(with_full_stop_forms(list(patterns), nlp))
    nlp.add_pipe("clinical_context")
    nlp.meta.update(
        {
            "name": PIPELINE_NAME,
            "version": PIPELINE_VERSION,
            "description": "Blank English with rule components for clinical terms (built from nlp/patterns).",
        }
    )
    return nlp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    nlp = build(load_patterns())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(args.output)
    print(f"spaCy pipeline '{PIPELINE_NAME}' with {len(nlp.get_pipe('entity_ruler'))} patterns -> {args.output}")


if __name__ == "__main__":
    main()
