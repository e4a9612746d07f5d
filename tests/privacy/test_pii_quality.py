"""Precision and recall per risk class on public test strings (Presidio's own test suite).

The sample is tests/privacy/fixtures/presidio_public_sample.json (its "source"
says where each string comes from). A prediction counts as right when a gold
entity of the same risk class overlaps it; run with -s to see the table.
"""

from __future__ import annotations

import json
from pathlib import Path

from apps.privacy.pii.scanner import ENTITY_RISK

SAMPLE = Path(__file__).parent / "fixtures" / "presidio_public_sample.json"
# Floors a change to recognizers or threshold must not go under (measured: see README).
FLOORS = {
    "high": {"precision": 0.90, "recall": 0.80},
    "medium": {"precision": 0.80, "recall": 0.90},
    "low": {"precision": 0.90, "recall": 0.80},
}


def _spans(text: str, gold: list[list[str]]) -> list[tuple[str, int, int]]:
    spans, cursor = [], {}
    for entity, value in gold:
        start = text.index(value, cursor.get(value, 0))
        cursor[value] = start + len(value)
        spans.append((ENTITY_RISK[entity], start, start + len(value)))
    return spans


def _overlaps(a: tuple[str, int, int], b: tuple[str, int, int]) -> bool:
    return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]


def evaluate(scanner) -> dict[str, dict[str, float]]:
    items = json.loads(SAMPLE.read_text())["items"]
    results = scanner.scan_texts([item["text"] for item in items])
    tally = {risk: {"tp": 0, "fp": 0, "fn": 0, "gold": 0} for risk in FLOORS}
    for item, findings in zip(items, results, strict=True):
        gold = _spans(item["text"], item["gold"])
        predicted = [(f.risk, f.start, f.end) for f in findings]
        for p in predicted:
            tally[p[0]]["tp" if any(_overlaps(p, g) for g in gold) else "fp"] += 1
        for g in gold:
            tally[g[0]]["gold"] += 1
            if not any(_overlaps(g, p) for p in predicted):
                tally[g[0]]["fn"] += 1
    scores = {}
    for risk, t in tally.items():
        predicted = t["tp"] + t["fp"]
        scores[risk] = {
            "precision": t["tp"] / predicted if predicted else 0.0,
            "recall": (t["gold"] - t["fn"]) / t["gold"] if t["gold"] else 0.0,
            "gold": t["gold"],
            "predicted": predicted,
        }
    return scores


def test_sample_is_public_and_labelled():
    doc = json.loads(SAMPLE.read_text())
    assert "microsoft/presidio" in doc["source"]
    assert len(doc["items"]) >= 100
    assert all(item["from"] for item in doc["items"])
    classes = {ENTITY_RISK[entity] for item in doc["items"] for entity, _ in item["gold"]}
    assert classes == {"high", "medium", "low"}


def test_precision_and_recall_per_risk_class(scanner):
    scores = evaluate(scanner)
    print("\nrisk    gold  predicted  precision  recall")
    for risk, s in scores.items():
        print(
            f"{risk:<7} {s['gold']:>4} {s['predicted']:>10} {s['precision']:>10.2f} {s['recall']:>7.2f}"
        )
    for risk, floor in FLOORS.items():
        assert scores[risk]["precision"] >= floor["precision"], (risk, scores[risk])
        assert scores[risk]["recall"] >= floor["recall"], (risk, scores[risk])
