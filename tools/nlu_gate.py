"""NLU quality gate: intent macro-F1 on the held-out set must stay at or above the floor.

The held-out examples (tests/nlu/heldout.yml) are never used for training. Retrieval intents
count per key ("faq/pain", not "faq"), because a visitor asking about pain and getting the
price answer is as wrong as any other misunderstanding. A message the model is unsure of
(nlu_fallback) counts as wrong. Prints a per-label table and every miss, then exits 1 below
the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from sklearn.metrics import precision_recall_fscore_support

PROJECT_ROOT = Path(__file__).resolve().parents[1]
HELDOUT = PROJECT_ROOT / "tests" / "nlu" / "heldout.yml"
FLOOR = 0.90


def predicted_label(parse: dict[str, Any]) -> str:
    """The intent, or for a retrieval intent its full key as the response selector chose it.

    Mirrors Rasa's `ActionRetrieveResponse`: a selector trained for this retrieval intent, else
    the "default" selector trained on all of them.
    """
    intent = (parse.get("intent") or {}).get("name") or "None"
    selectors = parse.get("response_selector") or {}
    if intent not in selectors.get("all_retrieval_intents", []):
        return intent
    selector = selectors.get(intent) or selectors.get("default") or {}
    return (selector.get("response") or {}).get("intent_response_key") or intent


def heldout_examples(path: Path) -> list[tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get_full_intent()) for m in data.intent_examples]


async def predict(model: Path, texts: list[str]) -> list[str]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [predicted_label(await agent.parse_message(text)) for text in texts]


def report(gold: list[str], predicted: list[str]) -> tuple[float, str]:
    labels = sorted(set(gold))
    precision, recall, f1, support = precision_recall_fscore_support(gold, predicted, labels=labels, zero_division=0)
    width = max(len(label) for label in labels)
    lines = [f"{'label':<{width}}  precision  recall     f1  n", "-" * (width + 31)]
    for row in zip(labels, precision, recall, f1, support, strict=False):
        lines.append(f"{row[0]:<{width}}  {row[1]:9.2f}  {row[2]:6.2f}  {row[3]:5.2f}  {row[4]}")
    macro = float(sum(f1) / len(f1))
    lines.append("-" * (width + 31))
    lines.append(f"{'macro-F1':<{width}}  {'':9}  {'':6}  {macro:5.3f}  {len(gold)}")
    return macro, "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description="NLU quality gate on the held-out set.")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--heldout", type=Path, default=HELDOUT)
    parser.add_argument("--floor", type=float, default=FLOOR)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "results" / "nlu-gate.json")
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    examples = heldout_examples(args.heldout)
    texts = [text for text, _ in examples]
    gold = [label for _, label in examples]
    predicted = asyncio.run(predict(args.model, texts))
    macro, table = report(gold, predicted)

    misses = [(t, g, p) for t, g, p in zip(texts, gold, predicted, strict=False) if g != p]
    print(f"\nNLU gate: {len(examples)} held-out examples, {len(set(gold))} labels\n")
    print(table)
    if misses:
        print(f"\nMisclassified ({len(misses)}):")
        for text, expected, got in misses:
            print(f"  {expected:<24} -> {got:<24} {text!r}")
        confusions = Counter((g, p) for _, g, p in misses).most_common(5)
        print("Most common confusions: " + "; ".join(f"{g} -> {p} ({n})" for (g, p), n in confusions))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"macro_f1": macro, "floor": args.floor, "misses": misses}, indent=2), encoding="utf-8"
    )
    verdict = "PASSED" if macro >= args.floor else "FAILED"
    print(f"\nNLU gate {verdict}: macro-F1 {macro:.3f} (floor {args.floor:.2f})")
    return 0 if macro >= args.floor else 1


if __name__ == "__main__":
    sys.exit(main())
