"""NLU quality gate on the held-out set: macro-F1 above the floor, few fallbacks.

The held-out examples (tests/nlu/heldout.yml) are never used for training. Retrieval intents
count per key ("faq/pain", not "faq"), because a visitor asking about pain and getting the
price answer is as wrong as any other misunderstanding. F1 scores what the classifiers
understood; how often the fallback classifier then asks "Did you mean…" instead of answering
is checked separately, so neither over-confidence nor over-caution passes unnoticed.
Prints a per-label table and every miss; exits 1 when either limit is broken.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections import Counter
from pathlib import Path

from sklearn.metrics import precision_recall_fscore_support

from nlp.parse import FALLBACK_INTENT, understood_label

PROJECT_ROOT = Path(__file__).resolve().parents[1]
HELDOUT = PROJECT_ROOT / "tests" / "nlu" / "heldout.yml"
FLOOR = 0.90
MAX_FALLBACK_RATE = 0.10


def heldout_examples(path: Path) -> list[tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get_full_intent()) for m in data.intent_examples]


async def predict(model: Path, texts: list[str]) -> list[tuple[str, bool]]:
    """(understood label, whether the assistant would ask "Did you mean…") per text."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    results = []
    for text in texts:
        parse = await agent.parse_message(text)
        results.append((understood_label(parse), parse["intent"]["name"] == FALLBACK_INTENT))
    return results


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
    parser.add_argument("--max-fallback-rate", type=float, default=MAX_FALLBACK_RATE)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "results" / "nlu-gate.json")
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    examples = heldout_examples(args.heldout)
    texts = [text for text, _ in examples]
    gold = [label for _, label in examples]
    results = asyncio.run(predict(args.model, texts))
    predicted = [label for label, _ in results]
    asks = [text for (text, _), (_, asked) in zip(examples, results, strict=True) if asked]
    macro, table = report(gold, predicted)
    fallback_rate = len(asks) / len(examples)

    misses = [(t, g, p) for t, g, p in zip(texts, gold, predicted, strict=True) if g != p]
    print(f"\nNLU gate: {len(examples)} held-out examples, {len(set(gold))} labels\n")
    print(table)
    if misses:
        print(f"\nMisunderstood ({len(misses)}):")
        for text, expected, got in misses:
            print(f"  {expected:<24} -> {got:<24} {text!r}")
        confusions = Counter((g, p) for _, g, p in misses).most_common(5)
        print("Most common confusions: " + "; ".join(f"{g} -> {p} ({n})" for (g, p), n in confusions))
    print(f"\nWould ask 'Did you mean…' for {len(asks)} ({fallback_rate:.1%}): " + "; ".join(map(repr, asks)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    summary = {"macro_f1": macro, "fallback_rate": fallback_rate, "misses": misses, "asks": asks}
    args.out.write_text(json.dumps(summary, indent=2), encoding="utf-8")

    passed = macro >= args.floor and fallback_rate <= args.max_fallback_rate
    print(
        f"\nNLU gate {'PASSED' if passed else 'FAILED'}: macro-F1 {macro:.3f} (floor {args.floor:.2f}), "
        f"fallback rate {fallback_rate:.1%} (at most {args.max_fallback_rate:.0%})"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
