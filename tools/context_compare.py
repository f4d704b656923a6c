"""Compare medspaCy's ConText with our `clinical_context` on the visitor phrasings.

Why: nlp/context.py is our own small NegEx/ConText. medspaCy's ConText is a well-kept implementation
of the same algorithm; this measures both on tests/screening/visitor_phrasings.yml so we can keep
whichever reads visitors' messages better. It is a measurement, not a test: it always exits 0.

Both pipelines share the entity ruler built from nlp/patterns. medspaCy's gets spaCy's
`sentencizer` (ConText scopes are sentences) and `medspacy_context` with medspaCy's default English
rules plus our conversational cues, taken from the constants in nlp/context.py and written as
ConTextRules: negations FORWARD (within NEGATION_WINDOW), answers after the term ("diabetes - no.")
BACKWARD, doubt BIDIRECTIONAL, "if"/"can i"/"is it" … FORWARD, family and other people
BIDIRECTIONAL (ended by a self cue), past/ended/recurrent BIDIRECTIONAL (ended by a current cue),
"but"/"however" … TERMINATE. Our cues also stop at our clause ends (",", "and", "so" … unless a list
of conditions continues), through medspaCy's `on_modifies` hook; `--sentence-scope` drops that and
lets them reach across the whole sentence, as medspaCy's default rules do.

medspaCy 1.3.1's package __init__ imports PyRuSH and QuickUMLS (a sentence splitter and a UMLS
lookup with compiled dependencies) although ConText uses neither; when they are not installed this
script puts empty stand-ins for those two modules in sys.modules before importing medspacy.

Run: `make context-compare` (installs medspacy first), or
    PYTHONPATH=. TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python -m tools.context_compare [--details]
--details lists every phrasing the two read differently, with the cues each saw; --sentence-scope and
--medspacy-rules default|ours show how much of medspaCy's result comes from which part of its setup.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import importlib.util
import statistics
import sys
import time
import traceback
import types
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import spacy
import yaml
from spacy.language import Language
from spacy.tokens import Span

from nlp import context as ours
from nlp.build_pipeline import build, load_patterns

PHRASINGS = Path(__file__).resolve().parents[1] / "tests" / "screening" / "visitor_phrasings.yml"
READINGS = ("own_current", "own_recurrent", "own_past", "ended", "denied", "doubt", "question", "someone_else")
OURS, MEDSPACY = "clinical_context", "medspaCy ConText"

# Modules medspacy/__init__.py imports that ConText never uses, and the names it takes from them.
IMPORT_ONLY = {"PyRuSH": ("PyRuSHSentencizer",), "quickumls": ("spacy_component",)}

# Our extra ConText categories and the Span attributes they set (the defaults are medspaCy's DEFAULT_ATTRIBUTES).
EXTRA_ATTRIBUTES = {
    "OTHER_EXPERIENCER": {"is_other_experiencer": True},
    "ENDED": {"is_ended": True, "is_historical": True},
    "RECURRENT": {"is_recurrent": True},
}
POST_NEGATION_WINDOW = 3  # as nlp/context.py's post_negation(): the answer comes within 3 tokens


def import_medspacy_context() -> types.ModuleType:
    """`medspacy.context`, with stand-ins for the import-only dependencies if they are not installed."""
    for name, attributes in IMPORT_ONLY.items():
        if importlib.util.find_spec(name) is None:
            stand_in = types.ModuleType(name)
            for attribute in attributes:
                setattr(stand_in, attribute, None)
            sys.modules[name] = stand_in
    return importlib.import_module("medspacy.context")


# --- our vocabulary, from nlp/context.py ------------------------------------------------------------

MISSING: list[str] = []


@functools.cache
def words(name: str) -> frozenset[str]:
    """A set of single words from nlp/context.py (remembered as missing if the constant is gone)."""
    value = getattr(ours, name, None)
    if value is None:
        MISSING.append(name)
        return frozenset()
    return frozenset(str(word) for word in value)


@functools.cache
def phrases(*names: str) -> list[tuple[str, ...]]:
    """Word sets and phrase lists from nlp/context.py as token tuples ("now and then" -> 3 tokens)."""
    found: set[tuple[str, ...]] = set()
    for name in names:
        value = getattr(ours, name, None)
        if value is None:
            MISSING.append(name)
            continue
        found |= {tuple(item.split()) if isinstance(item, str) else tuple(item) for item in value}
    return sorted(found)


def starts_list(doc: Any, i: int, starts: set[int]) -> bool:
    """Token i begins a condition, perhaps after list words ("or any psoriasis")."""
    list_words = words("LIST_WORDS")
    for j in range(i, min(i + 3, len(doc))):
        if j in starts:
            return True
        if doc[j].lower_ not in list_words:
            return False
    return False


def same_clause(target: Span, modifier: Span, _between: Span) -> bool:
    """`on_modifies` hook: no clause end between cue and term, as nlp/context.py draws clauses."""
    doc = target.doc
    low, high = (modifier.end, target.start) if modifier.end <= target.start else (target.end, modifier.start)
    hard, soft = words("HARD_BOUNDARIES"), words("SOFT_BOUNDARIES")
    starts = {ent.start for ent in doc.ents}
    for i in range(low, high):
        word = doc[i].lower_
        if word in hard or (word in soft and not starts_list(doc, i + 1, starts)):
            return False
    return True


def not_a_statement(target: Span, modifier: Span, between: Span) -> bool:
    """A question opener does not reach a term stated in the first person ("can i have it im pregnant")."""
    last = [token.lower_ for token in target.doc[modifier.end : target.start]][-4:]
    return not any(tuple(last[i : i + len(cue)]) == cue for cue in phrases("STATEMENT_CUES") for i in range(len(last)))


def conversational_rules(context: types.ModuleType, *, clause_scope: bool = True) -> list[Any]:
    """Our cues (the constants of nlp/context.py) as medspaCy ConTextRules."""
    rule_type = context.ConTextRule
    in_clause: Callable[..., bool] | None = same_clause if clause_scope else None

    def question_scope(target: Span, modifier: Span, between: Span) -> bool:
        return not_a_statement(target, modifier, between) and (
            in_clause is None or in_clause(target, modifier, between)
        )

    def rules(category: str, items: Iterable[tuple[str, ...]], direction: str, **options: Any) -> list[Any]:
        options.setdefault("on_modifies", in_clause)
        return [
            rule_type(" ".join(p), category, pattern=[{"LOWER": w} for w in p], direction=direction, **options)
            for p in items
        ]

    negations = phrases("NEGATIONS")
    answers, clause_starts = words("ANSWER_WORDS"), words("CLAUSE_STARTS") - words("NEGATIONS")
    openers = words("OPENERS") | answers | {","}
    askers = sorted(words("AUXILIARIES") | words("QUESTION_WORDS"))
    subject = {"IS_ALPHA": True, "ENT_TYPE": "", "OP": "?"}  # "can [i]", "is [it]": never the term itself
    boundaries = sorted((words("HARD_BOUNDARIES") | words("SOFT_BOUNDARIES")) - {".", "!", "?"})
    ended = phrases("ENDED", "ENDED_PHRASES")
    question_openers = [
        [{"IS_SENT_START": True, "LOWER": {"IN": askers}}, subject],
        [{"IS_SENT_START": True, "LOWER": {"IN": sorted(openers)}}, {"LOWER": {"IN": sorted(openers)}, "OP": "*"},
         {"LOWER": {"IN": askers}}, subject],
        [{"LOWER": {"IN": boundaries}}, {"LOWER": {"IN": askers}}, subject],
    ]  # fmt: skip
    # "no i get cold sores sometimes": an opening answer, not a negation.
    answer = [
        {"IS_SENT_START": True, "LOWER": {"IN": sorted(answers)}}, {"IS_PUNCT": True, "OP": "*"},
        {"LOWER": {"IN": sorted(clause_starts)}},
    ]  # fmt: skip
    window = int(getattr(ours, "NEGATION_WINDOW", 6))
    found = rules("NEGATED_EXISTENCE", negations, "FORWARD", max_scope=window)
    for word in sorted(words("POST_NEGATIONS")):  # "diabetes - no."
        after = [{"LOWER": word}, {"IS_PUNCT": True}]
        found.append(rule_type(f"{word} (after)", "NEGATED_EXISTENCE", pattern=after, direction="BACKWARD",
                               max_scope=POST_NEGATION_WINDOW))  # fmt: skip
    found.append(rule_type("answer", "ANSWER", pattern=answer, direction="PSEUDO"))
    found += rules("POSSIBLE_EXISTENCE", phrases("DOUBT_WORDS", "DOUBT_PHRASES"), "BIDIRECTIONAL")
    found += rules("HYPOTHETICAL", phrases("HYPOTHETICAL", "HYPOTHETICAL_PHRASES"), "FORWARD")
    found += [
        rule_type("question", "HYPOTHETICAL", pattern=p, direction="FORWARD", on_modifies=question_scope)
        for p in question_openers
    ]
    found += rules("SELF", phrases("SELF"), "BIDIRECTIONAL")
    found += rules("FAMILY", phrases("FAMILY"), "BIDIRECTIONAL", terminated_by={"SELF"})
    found += rules("OTHER_EXPERIENCER", phrases("OTHERS"), "BIDIRECTIONAL", terminated_by={"SELF"})
    found += rules("OTHER_EXPERIENCER", phrases("NOT_ME"), "BACKWARD", on_modifies=None)  # "diabetes? not me"
    found += rules("ENDED", ended, "BIDIRECTIONAL")
    past = [p for p in phrases("PAST") if p not in ended]
    found += rules("HISTORICAL", past, "BIDIRECTIONAL", terminated_by={"CURRENT"})
    found += rules("RECURRENT", phrases("RECURRENT"), "BIDIRECTIONAL", terminated_by={"CURRENT"})
    found += rules("CURRENT", phrases("CURRENT"), "BIDIRECTIONAL")
    terminators = [(w,) for w in sorted(words("HARD_BOUNDARIES") - {".", "!", "?"})]
    found += rules("TERMINATE", terminators, "TERMINATE", on_modifies=None)
    return found


def build_medspacy(
    context: types.ModuleType, patterns: list[dict[str, object]], *, rules: str = "both", clause_scope: bool = True
) -> Language:
    """Blank English + the same entity ruler + sentencizer + medspaCy ConText (its default rules and/or ours)."""
    for attributes in EXTRA_ATTRIBUTES.values():
        for name in attributes:
            if not Span.has_extension(name):
                Span.set_extension(name, default=False)
    pipeline = spacy.blank("en")
    pipeline.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"}).add_patterns(patterns)
    pipeline.add_pipe("sentencizer")
    span_attrs = {**context.DEFAULT_ATTRIBUTES, **EXTRA_ATTRIBUTES}
    default_rules = "default" if rules in ("both", "default") else None
    component = pipeline.add_pipe("medspacy_context", config={"rules": default_rules, "span_attrs": span_attrs})
    if rules in ("both", "ours"):
        component.add(conversational_rules(context, clause_scope=clause_scope))
    return pipeline


# --- one reading per mention ---------------------------------------------------------------------


def our_reading(ent: Span) -> str:
    if ent._.asked:
        return "question"
    if ent._.who != "self":
        return "someone_else"
    if ent._.hedged:
        return "doubt"
    if ent._.negated and not ent._.ended:
        return "denied"
    if ent._.ended:
        return "ended"
    return {"past": "own_past", "recurrent": "own_recurrent"}.get(ent._.when, "own_current")


def medspacy_reading(ent: Span) -> str:
    """As our_reading; "no longer"/"anymore" (ENDED) wins over the negation it contains, as in ours."""
    if ent._.is_hypothetical:
        return "question"
    if ent._.is_family or ent._.is_other_experiencer:
        return "someone_else"
    if ent._.is_uncertain:
        return "doubt"
    if ent._.is_negated and not ent._.is_ended:
        return "denied"
    if ent._.is_ended:
        return "ended"
    if ent._.is_historical:
        return "own_past"
    return "own_recurrent" if ent._.is_recurrent else "own_current"


def is_safety_misreading(expected: str, read: str | None) -> bool:
    if read is None:
        return False
    if expected in ("own_current", "own_recurrent"):
        return read in ("denied", "question", "someone_else")
    if expected == "question":
        return read in ("own_current", "own_recurrent", "own_past")
    return expected == "doubt" and read == "denied"


@dataclass
class Result:
    reads: list[str | None]  # per phrasing; None: the term was not tagged
    modifiers: list[str]  # what each pipeline saw, for --details
    seconds: float = 0.0


def read_all(
    pipeline: Language, items: list[dict[str, str]], reading: Callable[[Span], str], describe: Callable[[Span], str]
) -> Result:
    result = Result([], [])
    for item in items:
        doc = pipeline(item["text"])
        ent = next((e for e in doc.ents if e.ent_id_ == item["term"]), None)
        result.reads.append(None if ent is None else reading(ent))
        result.modifiers.append("" if ent is None else describe(ent))
    return result


def median_seconds(pipeline: Language, texts: list[str], repetitions: int) -> float:
    runs = []
    for _ in range(repetitions):
        start = time.perf_counter()
        for text in texts:
            pipeline(text)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def describe_ours(ent: Span) -> str:
    flags = [name for name in ("asked", "hedged", "negated", "ended") if getattr(ent._, name)]
    return " ".join([*flags, f"who={ent._.who}", f"when={ent._.when}"])


def describe_medspacy(ent: Span) -> str:
    return " ".join(f"{m.category}:{ent.doc[m.modifier_span[0] : m.modifier_span[1]].text!r}" for m in ent._.modifiers)


def report(
    source: Path, items: list[dict[str, str]], results: dict[str, Result], repetitions: int, details: bool
) -> None:
    names = list(results)
    expected = [item["reading"] for item in items]
    not_found = [i for i, read in enumerate(results[names[0]].reads) if read is None]
    print(f"Corpus: {len(items)} phrasings ({source})")
    print(f"Mentions not found (term not tagged by the shared entity ruler): {len(not_found)}")
    for i in not_found:
        print(f"  - {items[i]['term']}: {items[i]['text']!r}")
    if MISSING:
        print(
            f"Constants missing from nlp/context.py (left out of medspaCy's rules): {', '.join(sorted(set(MISSING)))}"
        )
    print()
    width = max(len(n) for n in names) + 2
    print(f"{'reading':<15}{'items':>6}" + "".join(f"{n:>{width}}" for n in names))
    counts = Counter(expected)
    for reading in READINGS:
        right = [sum(1 for e, r in zip(expected, results[n].reads, strict=True) if e == r == reading) for n in names]
        print(f"{reading:<15}{counts[reading]:>6}" + "".join(f"{r:>{width}}" for r in right))
    totals = [sum(1 for e, r in zip(expected, results[n].reads, strict=True) if e == r) for n in names]
    print(f"{'all':<15}{len(items):>6}" + "".join(f"{t:>{width}}" for t in totals))
    unsafe = {n: [i for i, (e, r) in enumerate(zip(expected, results[n].reads, strict=True))
                  if is_safety_misreading(e, r)] for n in names}  # fmt: skip
    print(f"{'SAFETY misreadings':<21}" + "".join(f"{len(unsafe[n]):>{width}}" for n in names))
    print(f"{f'seconds (median of {repetitions})':<21}" + "".join(f"{results[n].seconds:>{width}.3f}" for n in names))
    ours_time, theirs_time = results[OURS].seconds, results[MEDSPACY].seconds
    print(f"medspaCy / ours time: {theirs_time / ours_time:.2f}x" if ours_time else "medspaCy / ours time: n/a")
    print()
    print("SAFETY misreading: own_current/own_recurrent read as denied, question or someone_else; question read as")
    print("own_current/own_recurrent/own_past; doubt read as denied.")
    if not details:
        return
    for name in names:
        wrong = Counter((e, r) for e, r in zip(expected, results[name].reads, strict=True) if r is not None and e != r)
        listed = ", ".join(f"{e}->{r}: {n}" for (e, r), n in wrong.most_common())
        print(f"\n{name} misreadings (expected->read: n): {listed}")
        for i in unsafe[name]:
            print(f"  SAFETY {items[i]['text']!r} [{items[i]['term']}] {expected[i]} read as {results[name].reads[i]}")
    print("\nWhere the two disagree (expected | ours | medspaCy), * = safety misreading:")
    for i, item in enumerate(items):
        reads = [results[n].reads[i] for n in names]
        if len(set(reads)) == 1:
            continue
        marks = ["*" if i in unsafe[n] else " " for n in names]
        print(f"- {item['text']!r} [{item['term']}]  {expected[i]} | {marks[0]}{reads[0]} | {marks[1]}{reads[1]}")
        print(f"    ours: {results[OURS].modifiers[i]}    medspaCy: {results[MEDSPACY].modifiers[i]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phrasings", type=Path, default=PHRASINGS)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--details", action="store_true", help="list the phrasings the two pipelines read differently")
    parser.add_argument("--sentence-scope", action="store_true", help="our cues in medspaCy reach the whole sentence")
    parser.add_argument(
        "--medspacy-rules",
        choices=("both", "default", "ours"),
        default="both",
        help="medspaCy's default English rules, our cues as ConTextRules, or both (default)",
    )
    args = parser.parse_args(argv)
    try:
        context = import_medspacy_context()
    except ImportError as error:
        print(f"medspaCy is not importable ({error}); `make context-compare` installs it. Nothing measured.")
        return 0
    try:
        measure(args, context)
    except Exception:  # a measurement: say what went wrong, but don't fail the caller
        traceback.print_exc()
        print("The comparison did not finish (above); nothing measured.")
    return 0


def measure(args: argparse.Namespace, context: types.ModuleType) -> None:
    items = yaml.safe_load(args.phrasings.read_text(encoding="utf-8"))["phrasings"]
    patterns = load_patterns()
    theirs = build_medspacy(context, patterns, rules=args.medspacy_rules, clause_scope=not args.sentence_scope)
    pipelines = {OURS: build(patterns), MEDSPACY: theirs}
    readers = {OURS: (our_reading, describe_ours), MEDSPACY: (medspacy_reading, describe_medspacy)}
    texts = [item["text"] for item in items]
    results: dict[str, Result] = {}
    for name, pipeline in pipelines.items():
        results[name] = read_all(pipeline, items, *readers[name])
        results[name].seconds = median_seconds(pipeline, texts, args.repetitions)
    report(args.phrasings, items, results, args.repetitions, args.details)


if __name__ == "__main__":
    sys.exit(main())
