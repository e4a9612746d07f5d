"""The normalizer's JSON: what PostgreSQL's jsonb can hold, nothing else changed."""

import json

import orjson
import pytest

from apps.lake.normalize import canonical_json, jsonb_binary


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("What does \\u0000 mean?", "What does \\u0000 mean?"),  # the text, not a NUL
        ("nul\x00here", "nulhere"),
        ("\\\x00", "\\"),  # a backslash, then a NUL
        ("\\\\u0000 and \x00", "\\\\u0000 and "),
        ("plain", "plain"),
    ],
)
def test_nul_characters_are_dropped_and_text_that_looks_like_one_is_kept(value, stored):
    assert json.loads(canonical_json({"title": value})) == {"title": stored}
    assert orjson.loads(jsonb_binary({"title": value})[1:]) == {"title": stored}
