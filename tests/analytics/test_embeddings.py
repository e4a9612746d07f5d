"""The embedding model: shipped in a PyPI package, loaded with no network at all."""

import subprocess
import sys
import textwrap

from apps.analytics.embeddings import DIMENSIONS, embed_texts, event_text

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

    import os
    assert "HF_HUB_OFFLINE" not in os.environ
    from apps.analytics.embeddings import embed_texts, embedding_model
    vectors = embed_texts(["that ramen place in Osaka", "a noodle bar in Japan"])
    assert embedding_model() is embedding_model()  # loaded once per process
    print(len(vectors), len(vectors[0]), round(sum(a * b for a, b in zip(*vectors)), 3))
    """
)


def test_the_model_loads_and_embeds_with_the_network_blocked(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DJANGO_SETTINGS_MODULE": ""}
    # An empty HOME: no hub cache to fall back on, only the package's own files.
    result = subprocess.run(
        [sys.executable, "-c", NO_NETWORK],
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
