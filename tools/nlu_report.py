"""`make nlu-report`: turn Rasa's cross-validation output into one readable page.

Rasa writes JSON reports and confusion-matrix images; this writes `REPORT.md` beside them with
per-label scores (weakest first), the most frequent confusions, and the images.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPORTS = (
    ("Intents", "intent_report.json", "intent_confusion_matrix.png"),
    ("FAQ and out-of-scope answers (response selector)", "response_selection_report.json",
     "response_selection_confusion_matrix.png"),
)  # fmt: skip
SUMMARY_ROWS = ("accuracy", "macro avg", "weighted avg", "micro avg")


def section(title: str, report: dict, image: Path) -> list[str]:
    labels = {k: v for k, v in report.items() if k not in SUMMARY_ROWS and isinstance(v, dict)}
    lines = [f"## {title}", ""]
    macro = report.get("macro avg", {})
    if macro:
        lines += [f"Macro-F1 **{macro.get('f1-score', 0):.3f}** over {macro.get('support', 0)} examples.", ""]
    lines += ["| label | precision | recall | F1 | n | most often confused with |", "|---|---|---|---|---|---|"]
    for name, scores in sorted(labels.items(), key=lambda item: item[1].get("f1-score", 0)):
        confused = ", ".join(f"{other} ({n})" for other, n in list((scores.get("confused_with") or {}).items())[:3])
        lines.append(
            f"| {name} | {scores.get('precision', 0):.2f} | {scores.get('recall', 0):.2f} | "
            f"{scores.get('f1-score', 0):.2f} | {scores.get('support', 0)} | {confused} |"
        )
    if image.exists():
        lines += ["", f"![{title} confusion matrix]({image.name})"]
    return [*lines, ""]


def main(out_dir: str) -> int:
    folder = Path(out_dir)
    lines = [
        "# NLU cross-validation report",
        "",
        "5-fold cross-validation on the training data (`make nlu-report`).",
        "",
    ]
    found = False
    for title, report_name, image_name in REPORTS:
        report_path = folder / report_name
        if report_path.exists():
            found = True
            lines += section(title, json.loads(report_path.read_text(encoding="utf-8")), folder / image_name)
    if not found:
        print(f"No Rasa reports in {folder}: run `make nlu-report`.", file=sys.stderr)
        return 1
    target = folder / "REPORT.md"
    target.write_text("\n".join(lines), encoding="utf-8")
    print(f"Report written to {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "results/nlu-crossval"))
