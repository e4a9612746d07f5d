"""PII scanning speed: Datapunk's batch scanner against one presidio analyze() per text.

    .venv/bin/python scripts/bench_pii.py                 # 20,000 events, baseline on 400
    .venv/bin/python scripts/bench_pii.py --events 100000 --baseline-events 1000

Generates Takeout-like events (YouTube watches, Chrome visits, searches, Gmail
subjects, Keep notes, Maps places, Fit sessions; about one in eight carries an
e-mail, phone, card, IBAN, IP, handle or a person's name), then, in the same run:

- baseline: presidio as shipped, ``AnalyzerEngine()`` with every predefined
  recognizer and the whole spaCy pipeline (tagger, parser, lemmatizer, NER) of
  the same model, one ``analyze()`` per text field;
- Datapunk: ``apps.privacy.pii.scanner.PiiScanner.scan_texts`` on the fields of batches
  of 2,000 events (``SCAN_BATCH``), exactly as ``pii_scan_backfill`` calls it;
  with ``--processes 2`` the events are split over two processes (two Celery
  workers scanning two batches or two users).

Both measure the scanning only (no database): the texts are prepared first.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datapunk.settings")
os.environ.setdefault("DEBUG", "true")

WORDS = (
    "best of live official music video full album trailer review how to make easy recipe "
    "tutorial beginners guide news today highlights funny moments reaction explained history "
    "documentary podcast episode interview lecture chill mix lofi beats study relax workout "
    "morning routine travel vlog city walk tour drone footage cooking pasta bread coffee "
    "python django postgres linux kernel rust compiler tips tricks update release notes"
).split()
CHANNELS = [
    "Kurzgesagt – In a Nutshell",
    "Tom Scott",
    "Lofi Girl",
    "NileRed",
    "3Blue1Brown",
    "Veritasium",
    "Marques Brownlee",
    "Binging with Babish",
    "CGP Grey",
    "Linus Tech Tips",
]
SITES = ["Hacker News", "Wikipedia", "GitHub", "Stack Overflow", "BBC News", "Reddit", "MDN"]
PLACES = ["Home", "Work", "Alexanderplatz", "Central Station", "Gym", "Cafe Luna", "Supermarket"]
PEOPLE = ["Maria Keller", "Tom Fischer", "Anna Schmidt", "David Johnson", "Lena Weber"]
PII = [
    "write to {first}.{last}@example.org",
    "call me on +1 415 555 {n4}",
    "card 4111 1111 1111 1111 exp 09/27",
    "IBAN DE89 3704 0044 0532 0130 00",
    "login from 192.168.{n1}.{n2}",
    "ping @{first}_{n2} about it",
    "dinner with {person}",
    "my SSN is 078-05-{n4}",
]


def _phrase(rng: random.Random, low: int, high: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(w.capitalize() if rng.random() < 0.5 else w for w in words)


def _pii(rng: random.Random) -> str:
    person = rng.choice(PEOPLE)
    first, last = person.lower().split()
    return rng.choice(PII).format(
        first=first,
        last=last,
        person=person,
        n1=rng.randint(0, 255),
        n2=rng.randint(1, 254),
        n4=f"{rng.randint(0, 9999):04d}",
    )


def make_events(count: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    events = []
    for i in range(count):
        kind = rng.choices(
            ["youtube", "chrome", "search", "gmail", "keep", "maps", "fit"],
            weights=[30, 25, 15, 10, 5, 10, 5],
        )[0]
        pii = rng.random() < 0.125
        event = {"id": i, "title": "", "text": "", "url": "", "data": {}, "with_pii": pii}
        if kind == "youtube":
            title = _phrase(rng, 3, 9)
            channel = rng.choice(CHANNELS)
            video = "".join(rng.choice("abcdefghijkLMNOP0123_-") for _ in range(11))
            event["title"] = f"Watched {title}"
            event["url"] = f"https://www.youtube.com/watch?v={video}"
            event["data"] = {
                "header": "YouTube",
                "title": event["title"],
                "titleUrl": event["url"],
                "subtitles": [{"name": channel, "url": "https://www.youtube.com/channel/UC1"}],
                "products": ["YouTube"],
            }
        elif kind == "chrome":
            event["title"] = f"{_phrase(rng, 2, 7)} - {rng.choice(SITES)}"
            event["url"] = f"https://example.com/{rng.choice(WORDS)}/{rng.randint(1, 99999)}"
            event["data"] = {"page_transition": rng.choice(["LINK", "TYPED", "RELOAD"])}
        elif kind == "search":
            event["title"] = f"Searched for {_phrase(rng, 1, 5).lower()}"
            event["data"] = {"header": "Search", "products": ["Search"]}
        elif kind == "gmail":
            event["title"] = _phrase(rng, 3, 8)
            event["text"] = f"{_phrase(rng, 6, 20)}. {_pii(rng) if pii else ''}".strip()
            event["data"] = {"from": "newsletter@example.com", "labels": ["Inbox"]}
        elif kind == "keep":
            event["title"] = _phrase(rng, 1, 4)
            event["text"] = _phrase(rng, 5, 25).lower()
            event["data"] = {"color": "DEFAULT"}
        elif kind == "maps":
            event["title"] = rng.choice(PLACES)
            event["data"] = {"semanticType": "TYPE_HOME", "placeId": f"ChIJ{rng.randint(0, 10**8)}"}
        else:
            event["data"] = {"activity": "walking", "steps": rng.randint(100, 20000)}
        if pii and kind != "gmail":
            event["title"] = f"{event['title']} {_pii(rng)}".strip()
        events.append(event)
    return events


def _setup() -> None:
    import django

    django.setup()
    import logging

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)


def _scan_events(events: list[dict]) -> tuple[int, int, float]:
    """Scan as pii_scan_backfill does: per batch, all fields of the batch at once."""
    _setup()
    from apps.privacy.fields import event_fields
    from apps.privacy.pii.scanner import pii_scanner
    from apps.privacy.services import SCAN_BATCH

    scanner = pii_scanner()
    scanner.scan_texts(["warm up with Maria Keller"])
    cpu = time.process_time()
    findings = texts = 0
    for start in range(0, len(events), SCAN_BATCH):
        batch = events[start : start + SCAN_BATCH]
        fields = [text for event in batch for _, text in event_fields(event)]
        texts += len(fields)
        findings += sum(len(found) for found in scanner.scan_texts(fields))
    return findings, texts, time.process_time() - cpu


def _timed_scan(events: list[dict], processes: int) -> tuple[float, float, int, int]:
    """(wall seconds, CPU seconds summed over processes, findings, fields)."""
    if processes == 1:
        started = time.perf_counter()
        findings, texts, cpu = _scan_events(events)
        return time.perf_counter() - started, cpu, findings, texts
    chunks = [events[i::processes] for i in range(processes)]
    with ProcessPoolExecutor(processes) as pool:
        # Load the model in each process before the clock starts.
        list(pool.map(_scan_events, [[] for _ in range(processes)]))
        started = time.perf_counter()
        results = list(pool.map(_scan_events, chunks))
    elapsed = time.perf_counter() - started
    return (
        elapsed,
        sum(r[2] for r in results),
        sum(r[0] for r in results),
        sum(r[1] for r in results),
    )


def _baseline(events: list[dict]) -> tuple[float, float, int]:
    _setup()
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    from apps.privacy.fields import event_fields
    from apps.privacy.pii.scanner import MODEL_PACKAGE

    engine = AnalyzerEngine(
        nlp_engine=SpacyNlpEngine(models=[{"lang_code": "en", "model_name": MODEL_PACKAGE}])
    )
    engine.analyze(text="warm up with Maria Keller", language="en")
    started, cpu = time.perf_counter(), time.process_time()
    findings = 0
    for event in events:
        for _, text in event_fields(event):
            findings += len(engine.analyze(text=text, language="en"))
    return time.perf_counter() - started, time.process_time() - cpu, findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--baseline-events", type=int, default=400)
    parser.add_argument("--processes", type=int, default=1, help="scanner processes (cores)")
    args = parser.parse_args()

    events = make_events(args.events)
    with_pii = sum(1 for e in events if e["with_pii"])
    print(
        f"{len(events):,} Takeout-like events, about {with_pii:,} with PII; {os.cpu_count()} cores"
    )

    base_events = events[: args.baseline_events]
    load = os.getloadavg()[0]
    base_time, base_cpu, base_findings = _baseline(base_events)
    base_rate = len(base_events) / base_time
    print(
        f"baseline  presidio AnalyzerEngine(), one analyze() per field: "
        f"{len(base_events):,} events in {base_time:.1f} s = {base_rate:,.0f} events/s "
        f"(CPU {base_cpu:.1f} s = {len(base_events) / base_cpu:,.0f} events per CPU-second; "
        f"{base_findings} findings, all entity types)"
    )

    scan_time, scan_cpu, findings, texts = _timed_scan(events, args.processes)
    rate = len(events) / scan_time
    print(
        f"datapunk  PiiScanner.scan_texts, batches of 2,000 events, {args.processes} process(es): "
        f"{len(events):,} events ({texts:,} fields) in {scan_time:.1f} s = {rate:,.0f} events/s "
        f"(CPU {scan_cpu:.1f} s = {len(events) / scan_cpu:,.0f} events per CPU-second; "
        f"{findings:,} findings)"
    )
    print(
        f"speed-up  {rate / base_rate:.1f}x wall clock, "
        f"{(len(events) / scan_cpu) / (len(base_events) / base_cpu):.1f}x per CPU-second; "
        f"target >= 1,000 events/s: {'met' if rate >= 1000 else 'NOT met'} "
        f"(load average {load:.1f} on {os.cpu_count()} cores when it started)"
    )


if __name__ == "__main__":
    main()
