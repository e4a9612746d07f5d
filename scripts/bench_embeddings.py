#!/usr/bin/env python
"""Benchmark: embedding rate of the new model (multilingual-e5-small, int8 ONNX) against
the previous one (all-MiniLM-L6-v2, torch), on the same texts in the same run.

The texts look like a lake's events (video titles, searches, notes, mails) in English,
Portuguese, German, Japanese and Thai, 10 to ~300 characters, made from a fixed seed.
Each model is loaded and warmed first (the int8 model is built and cached on its first
use, once per machine); then N texts are embedded the way the backfill does (batches of
256 per call) and events/s printed, with the ratio.

    .venv/bin/python scripts/bench_embeddings.py [--texts N]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datapunk.settings")

from apps.analytics.embeddings import MODEL_NAME, PREVIOUS_MODEL, embed_texts  # noqa: E402

PHRASES = [
    "Watched {n} ways to cook rice perfectly",
    "Receita de pão de queijo caseiro, parte {n}",
    "Stromrechnung für März bezahlt, Kundennummer {n}",
    "大阪で一番おいしいラーメン屋 その{n}",
    "ราเมงโอซาก้า ร้านอร่อยที่สุด ตอนที่ {n}",
    "Searched for train tickets Lisbon to Porto {n}",
    "Meeting notes: budget review, action items for week {n}",
]
BATCH = 256  # what search/services.py embeds per round


def texts(count: int) -> list[str]:
    rng = random.Random(17)
    out = []
    for i in range(count):
        parts = [rng.choice(PHRASES).format(n=i) for _ in range(rng.choice((1, 1, 2, 4)))]
        out.append(". ".join(parts))
    return out


def rate(model: str, sample: list[str]) -> float:
    embed_texts(sample[:16], model=model)  # load and warm
    started = time.perf_counter()
    for start in range(0, len(sample), BATCH):
        embed_texts(sample[start : start + BATCH], model=model)
    return len(sample) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=2048)
    args = parser.parse_args()
    sample = texts(args.texts)
    old = rate(PREVIOUS_MODEL, sample)
    new = rate(MODEL_NAME, sample)
    print(f"{PREVIOUS_MODEL} (torch, fp32): {old:.1f} events/s")
    print(f"{MODEL_NAME} (ONNX Runtime, int8): {new:.1f} events/s")
    print(f"ratio new/old: {new / old:.2f}x on {os.cpu_count()} cores, {args.texts} texts")


if __name__ == "__main__":
    main()
