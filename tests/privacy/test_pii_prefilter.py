"""The pre-filter and the batch path find what one unfiltered analyze() per text finds."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest

from apps.privacy.pii.scanner import NER_ENTITIES, PATTERN_ENTITIES, prefilter

SAMPLE = Path(__file__).parent / "fixtures" / "presidio_public_sample.json"


def _sample_texts() -> list[str]:
    return [item["text"] for item in json.loads(SAMPLE.read_text())["items"]]


def _no_hint_texts(count: int) -> list[str]:
    """Random texts of letters, punctuation and spaces that the pattern hint rejects."""
    rng = random.Random(6)
    alphabet = string.ascii_letters + " .,-_/:#'()!?+*&%$=;<>[]{}|~^" + "äöüßéñ"
    texts = []
    while len(texts) < count:
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(5, 60)))
        if not prefilter(text)[0]:
            texts.append(text)
    return texts


def _unfiltered(scanner, text: str, entities: list[str]) -> set[tuple[str, int, int]]:
    """What presidio itself says: the same engine, full NLP on this one text, no pre-filter."""
    results = scanner.analyzer.analyze(
        text=text, language="en", entities=entities, score_threshold=scanner.score_threshold
    )
    return {(r.entity_type, r.start, r.end) for r in results}


def test_texts_without_a_hint_hold_no_pattern_entity(scanner):
    """The pre-filter may skip these: the unfiltered recognizers find nothing in them."""
    texts = _no_hint_texts(1500) + [t for t in _sample_texts() if not prefilter(t)[0]]
    flagged = [t for t in texts if _unfiltered(scanner, t, PATTERN_ENTITIES)]
    assert flagged == []


def _hinted_texts(count: int) -> list[str]:
    """Random texts of digits, letters and the punctuation of e-mails, IPs, cards and IDs."""
    rng = random.Random(7)
    alphabet = string.digits * 4 + string.ascii_letters + " .-:@/_+()"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(5, 40))) for _ in range(count)]


def test_an_entity_whose_regexes_miss_is_not_found_by_its_recognizer(scanner):
    """The probes may skip an entity whose own regexes do not match: presidio,
    unfiltered, finds nothing of that entity there. Real samples and random ones
    (about a third of which some probe matches, so both sides are exercised)."""
    texts = _sample_texts() + _hinted_texts(1500)
    probed = {entity: 0 for entity in scanner.probes}
    for text in texts:
        admitted = set(scanner._pattern_entities(text))
        found = {entity for entity, _, _ in _unfiltered(scanner, text, PATTERN_ENTITIES)}
        for entity in found & set(scanner.probes):
            assert any(p.search(text) for p in scanner.probes[entity]), (entity, text)
            probed[entity] += 1
        # Nothing found is ever skipped by the scanner (probe or context gate)
        # unless presidio's score for it falls under the threshold without context.
        assert found - admitted <= set(scanner.context_gated), (found - admitted, text)
    assert sum(probed.values()) > 50  # the random texts do hold findings


@pytest.mark.parametrize(
    "text",
    [
        "mail a@b.io",
        "fe80::1",
        "abcd:ef01:abcd:ef01:abcd:ef01:abcd:ef01",
        "u/someone",
        "handle: someone",
        "078-05-1123",
    ],
)
def test_hint_admits_every_pattern_shape(text):
    assert prefilter(text)[0]


@pytest.fixture(scope="module")
def presidio_as_shipped():
    """Presidio's own spaCy engine: the whole model (tagger, lemmatizer, ...), real lemmas."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    from apps.privacy.pii.scanner import MODEL_PACKAGE, pattern_recognizers

    registry = RecognizerRegistry(
        recognizers=[*pattern_recognizers(), SpacyRecognizer(supported_entities=NER_ENTITIES)]
    )
    nlp_engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": MODEL_PACKAGE}])
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine)


def test_batch_path_matches_presidio_as_shipped(scanner, presidio_as_shipped):
    """Batching, NER-only pipeline with lower-cased tokens as lemmas, tokenizer-only
    artifacts and the pre-filter change no pattern finding against presidio run
    as shipped (full pipeline, one analyze() per text).

    Both sides go through the same overlap resolution and phone rule.
    """
    from apps.privacy.pii.scanner import Finding, _ambiguous_phone, resolve_overlaps

    texts = _sample_texts()
    batch = scanner.scan_texts(texts)
    for text, found in zip(texts, batch, strict=True):
        raw = presidio_as_shipped.analyze(
            text=text,
            language="en",
            entities=PATTERN_ENTITIES + NER_ENTITIES,
            score_threshold=scanner.score_threshold,
        )
        reference = resolve_overlaps(
            [
                Finding(r.entity_type, r.start, r.end, r.score)
                for r in raw
                if not _ambiguous_phone(r.entity_type, r.score, text, r.start, r.end)
            ]
        )
        want = {
            (f.entity_type, f.start, f.end) for f in reference if f.entity_type in PATTERN_ENTITIES
        }
        got = {(f.entity_type, f.start, f.end) for f in found if f.entity_type in PATTERN_ENTITIES}
        assert got == want, text


def test_identical_texts_are_analysed_once(scanner, monkeypatch):
    calls = []
    original = scanner._analyze
    monkeypatch.setattr(
        scanner, "_analyze", lambda text, *a: calls.append(text) or original(text, *a)
    )
    scanner.scan_texts(["Call +1 415 555 0132"] * 50 + ["no hint here"] * 50)
    assert calls == ["Call +1 415 555 0132"]
