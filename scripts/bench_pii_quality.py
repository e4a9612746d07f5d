"""PII detection quality: Datapunk's scanner against presidio's AnalyzerEngine, same corpus.

    .venv/bin/python scripts/bench_pii_quality.py                 # 3,000 sentences, seed 15
    .venv/bin/python scripts/bench_pii_quality.py --sentences 6000 --seed 7

The labelled corpus is generated the way presidio's evaluator (presidio-research)
does it: sentence templates whose placeholders are filled by Faker, seeded, in
several locales (en_US, en_GB, de_DE, fr_FR, it_IT, es_ES), so the gold spans are
known. About a third are realistic negatives: numbers and decimals as Fit writes
them, coordinates, timestamps, durations, hashes, UUIDs, ids, song and channel
names, and digits beside a phone word that are no phone number (an order number,
a call's duration, a text's one-time code). Then every file of ../shared/realdata (JSON, CSV, text) is read: its
numbers (JSON numbers and number strings) must give no finding; its other
strings are unlabelled, so their findings are counted per type, not scored.

Printed: precision, recall and F1 per entity type for both scanners (a
prediction is right when it overlaps a gold span of the same type), findings on
numeric values, and texts per CPU-second of each (time.process_time).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datapunk.settings")
os.environ.setdefault("DEBUG", "true")

LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "it_IT", "es_ES"]
# Templates as presidio-research writes them: {{entity}} placeholders in everyday sentences.
TEMPLATES: list[str] = [
    "My name is {{PERSON}} and I live in Berlin",
    "Meeting with {{PERSON}} moved to Friday",
    "{{PERSON}} shared an album with you",
    "Call from {{PERSON}} (missed)",
    "Please send the invoice to {{EMAIL_ADDRESS}}",
    "New sign-in for {{EMAIL_ADDRESS}}",
    "Reply to {{EMAIL_ADDRESS}} before noon",
    "Call me on {{PHONE_NUMBER}} tomorrow",
    "my phone number is {{PHONE_NUMBER}}",
    "Missed call: {{PHONE_NUMBER}}",
    "Paid with card {{CREDIT_CARD}} at the station",
    "credit card: {{CREDIT_CARD}}",
    "Your visa {{CREDIT_CARD}} was charged",
    "Transfer to IBAN {{IBAN_CODE}} done",
    "IBAN: {{IBAN_CODE}}",
    "Login from {{IP_ADDRESS}} blocked",
    "server {{IP_ADDRESS}} is down",
    "my social security number is {{US_SSN}}",
    "SSN {{US_SSN}} on file",
    "{{PERSON}} wrote to {{EMAIL_ADDRESS}} about the card {{CREDIT_CARD}}",
]
SONGS = [
    "Bohemian Rhapsody",
    "Lofi Girl - beats to relax/study to",
    "Kurzgesagt – In a Nutshell",
    "Daft Punk - Get Lucky (Official Audio)",
    "Tom Scott",
    "Marques Brownlee",
    "Linus Tech Tips",
    "Taylor Swift - Anti-Hero",
    "Hans Zimmer - Time",
    "Mozart: Requiem in D minor, K. 626",
    "Billie Eilish - bad guy",
    "The Weeknd - Blinding Lights",
    "Queen - Live at Wembley 1986",
    "Veritasium",
    "3Blue1Brown",
]


def _fill(fake, entity: str, rng: random.Random) -> str:
    if entity == "PERSON":
        return fake.name()
    if entity == "EMAIL_ADDRESS":
        return fake.email()
    if entity == "PHONE_NUMBER":
        return fake.phone_number()
    if entity == "CREDIT_CARD":
        number = fake.credit_card_number(card_type=rng.choice(["visa", "mastercard", "amex"]))
        if rng.random() < 0.5 and len(number) == 16:
            number = " ".join(number[i : i + 4] for i in range(0, 16, 4))
        return number
    if entity == "IBAN_CODE":
        return fake.iban()
    if entity == "IP_ADDRESS":
        return fake.ipv4() if rng.random() < 0.8 else fake.ipv6()
    if entity == "US_SSN":
        return fake.unique.ssn() if fake.locales == ["en_US"] else fake.ssn()
    raise ValueError(entity)


def negatives(fake, rng: random.Random) -> str:
    kind = rng.randrange(13)
    if kind == 0:
        return repr(rng.uniform(0, 500))  # Fit's kcal, metres: 16-17 digits
    if kind == 1:
        return f"{rng.uniform(-90, 90):.6f}, {rng.uniform(-180, 180):.6f}"
    if kind == 2:
        return fake.iso8601() + rng.choice(["Z", "+01:00", ".123Z"])
    if kind == 3:
        return rng.choice([f"{rng.randint(1, 9999)}s", f"PT{rng.randint(1, 59)}M", "01:02:03"])
    if kind == 4:
        return fake.sha1() if rng.random() < 0.5 else fake.md5()
    if kind == 5:
        return fake.uuid4()
    if kind == 6:
        return str(rng.randint(10**12, 10**21))
    if kind == 7:
        return rng.choice(SONGS)
    if kind == 8:
        return f"Watched {rng.choice(SONGS)}"
    # Digits beside a phone word that are no phone number.
    if kind == 10:
        return f"Called about order {rng.randint(10**5, 10**9)} on {fake.date()}"
    if kind == 11:
        return f"Call duration {rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}, phone battery {rng.randint(1, 100)}%"
    if kind == 12:
        return f"Text from {rng.randint(10000, 99999)}: your code is {rng.randint(100000, 999999)}"
    return f"Calories (kcal) {rng.uniform(0, 500)!r} distance {rng.uniform(0, 9000)!r}"


def make_corpus(count: int, seed: int) -> list[tuple[str, list[tuple[str, int, int]]]]:
    from faker import Faker

    rng = random.Random(seed)
    fakers = {}
    for locale in LOCALES:
        fake = Faker(locale)
        fake.seed_instance(seed)
        fakers[locale] = fake
    us = fakers["en_US"]
    corpus: list[tuple[str, list[tuple[str, int, int]]]] = []
    for index in range(count):
        fake = fakers[LOCALES[index % len(LOCALES)]]
        if index % 3 == 2:
            corpus.append((negatives(fake, rng), []))
            continue
        template = rng.choice(TEMPLATES)
        text, gold, cursor = "", [], 0
        for match in re.finditer(r"\{\{(\w+)\}\}", template):
            text += template[cursor : match.start()]
            entity = match.group(1)
            value = _fill(us if entity == "US_SSN" else fake, entity, rng)
            gold.append((entity, len(text), len(text) + len(value)))
            text += value
            cursor = match.end()
        text += template[cursor:]
        corpus.append((text, gold))
    return corpus


NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?")


def realdata_values(root: Path) -> tuple[list[str], list[str], int]:
    """(numeric values, other strings, files read) of every file under ``root``."""
    numbers: list[str] = []
    strings: list[str] = []
    files = 0

    def walk(value) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, bool) or value is None:
            return
        elif isinstance(value, int | float):
            numbers.append(json.dumps(value))
        elif isinstance(value, str):
            (numbers if NUMBER.fullmatch(value.strip()) else strings).append(value)

    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.stat().st_size > 50_000_000:
            continue
        try:
            raw = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue  # images and other binaries: no text
        files += 1
        if path.suffix.lower() in (".json", ".rec", ".geojson"):
            try:
                walk(json.loads(raw))
                continue
            except json.JSONDecodeError:
                pass  # JSON lines, OwnTracks' "time\t*\t{...}": read line by line below
        if path.suffix.lower() == ".csv":
            for row in csv.reader(io.StringIO(raw)):
                for cell in row:
                    walk(cell)
            continue
        for line in raw.splitlines():
            brace = line.find("{")
            if brace >= 0:
                try:
                    walk(json.loads(line[brace:]))
                    continue
                except json.JSONDecodeError:
                    pass
            if line.strip():
                walk(line[:2_000])
    return numbers, strings, files


def score(corpus, predictions) -> dict[str, dict[str, float]]:
    entities = sorted({g[0] for _, gold in corpus for g in gold})
    tally = {e: {"tp": 0, "fp": 0, "fn": 0} for e in entities}
    for (_, gold), found in zip(corpus, predictions, strict=True):
        for entity, start, end in found:
            if entity not in tally:
                continue  # a type this corpus has no gold for (DATE_TIME, LOCATION, ...)
            hit = any(g[0] == entity and start < g[2] and g[1] < end for g in gold)
            tally[entity]["tp" if hit else "fp"] += 1
        for entity, start, end in gold:
            if not any(p[0] == entity and p[1] < end and start < p[2] for p in found):
                tally[entity]["fn"] += 1
    out = {}
    for entity, t in tally.items():
        p = t["tp"] / (t["tp"] + t["fp"]) if t["tp"] + t["fp"] else 0.0
        gold_count = sum(1 for _, gold in corpus for g in gold if g[0] == entity)
        r = (gold_count - t["fn"]) / gold_count if gold_count else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        out[entity] = {"precision": p, "recall": r, "f1": f1, "gold": gold_count}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument(
        "--realdata", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "realdata"
    )
    args = parser.parse_args()
    if not args.realdata.is_dir():
        args.realdata = Path("/work/shared/realdata")

    import django

    django.setup()
    import logging

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    from apps.privacy.pii.scanner import ENTITY_RISK, MODEL_PACKAGE, SCANNER_VERSION, PiiScanner
    from apps.privacy.services import SCAN_BATCH

    corpus = make_corpus(args.sentences, args.seed)
    texts = [text for text, _ in corpus]
    scanner = PiiScanner()
    scanner.scan_texts(["warm up with Maria Keller"])
    cpu = time.process_time()
    ours = []
    for start in range(0, len(texts), SCAN_BATCH):
        ours.extend(scanner.scan_texts(texts[start : start + SCAN_BATCH]))
    ours_cpu = time.process_time() - cpu

    # presidio's default engine and recognizers; its default model (en_core_web_lg) is not
    # shipped here, so it runs on the same small model as Datapunk, whole pipeline.
    engine = AnalyzerEngine(
        nlp_engine=SpacyNlpEngine(models=[{"lang_code": "en", "model_name": MODEL_PACKAGE}])
    )
    engine.analyze(text="warm up with Maria Keller", language="en")
    cpu = time.process_time()
    theirs = [engine.analyze(text=text, language="en") for text in texts]
    theirs_cpu = time.process_time() - cpu

    ours_scores = score(
        corpus, [[(f.entity_type, f.start, f.end) for f in found] for found in ours]
    )
    theirs_scores = score(
        corpus, [[(r.entity_type, r.start, r.end) for r in found] for found in theirs]
    )
    negatives_count = sum(1 for _, gold in corpus if not gold)
    print(
        f"corpus: {len(corpus)} sentences (seed {args.seed}, locales {', '.join(LOCALES)}), "
        f"{negatives_count} negatives; Datapunk scanner version {SCANNER_VERSION}"
    )
    print(
        f"{'entity':<15} {'risk':<6} {'gold':>5}   {'Datapunk P / R / F1':<22} presidio P / R / F1"
    )
    for entity in sorted(ours_scores, key=lambda e: (ENTITY_RISK.get(e, "low"), e)):
        o, t = ours_scores[entity], theirs_scores[entity]
        print(
            f"{entity:<15} {ENTITY_RISK.get(entity, '?'):<6} {o['gold']:>5}   "
            f"{o['precision']:.2f} / {o['recall']:.2f} / {o['f1']:.2f}      "
            f"{t['precision']:.2f} / {t['recall']:.2f} / {t['f1']:.2f}"
        )
    false_on_negatives = sum(
        len(found) for (_, gold), found in zip(corpus, ours, strict=True) if not gold
    )
    presidio_on_negatives = sum(
        1
        for (_, gold), found in zip(corpus, theirs, strict=True)
        if not gold
        for r in found
        if r.entity_type in ENTITY_RISK
    )
    print(
        f"findings on the {negatives_count} negatives: Datapunk {false_on_negatives}, "
        f"presidio {presidio_on_negatives} (of Datapunk's entity types)"
    )
    print(
        f"throughput: Datapunk {len(texts) / ours_cpu:,.0f} texts per CPU-second, "
        f"presidio {len(texts) / theirs_cpu:,.0f}: {theirs_cpu / ours_cpu:.1f}x"
    )

    numbers, strings, files = realdata_values(args.realdata)
    found_numbers = scanner.scan_texts(numbers)
    on_numbers = sum(len(f) for f in found_numbers)
    by_type: dict[str, int] = {}
    for found in scanner.scan_texts(strings):
        for f in found:
            by_type[f.entity_type] = by_type.get(f.entity_type, 0) + 1
    print(
        f"realdata: {files} files, {len(numbers)} numeric values -> {on_numbers} findings; "
        f"{len(strings)} other strings (unlabelled) -> {dict(sorted(by_type.items()))}"
    )


if __name__ == "__main__":
    main()
