"""Which query parameters a request read: a middleware for the parameter sweep.

It goes first in MIDDLEWARE and puts a recording QueryDict in ``request.GET``
(DRF's ``query_params`` is the same object) and a recording dict in
``request.META``. A parameter counts as read when code asks for it by name;
anything that sees the whole query at once (iterating, copying, urlencode, the raw
QUERY_STRING as ``get_full_path`` reads it) counts as reading every parameter.
A request that never read a parameter took the same path whatever its value.
"""

from __future__ import annotations

from typing import Any

from django.http import QueryDict

EVERY = "*"  # something saw the whole query
reads: set[str] = set()


def read(name: str) -> bool:
    """Did the last request read parameter ``name`` (or the whole query)?"""
    return name in reads or EVERY in reads


class _RecordingQueryDict(QueryDict):
    def __getitem__(self, key: str) -> Any:
        reads.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        reads.add(str(key))
        return super().__contains__(key)

    def get(self, key: str, default: Any = None) -> Any:
        reads.add(key)
        return super().get(key, default)

    def getlist(self, key: str, default: Any = None) -> Any:
        reads.add(key)
        return super().getlist(key, default)


def _whole(method_name: str):
    def whole(self, *args, **kwargs):
        reads.add(EVERY)
        return getattr(QueryDict, method_name)(self, *args, **kwargs)

    whole.__name__ = method_name
    return whole


for _name in (
    "__iter__",
    "__len__",
    "__eq__",
    "__repr__",
    "__copy__",
    "__deepcopy__",
    "__reduce__",
    "__getstate__",
    "keys",
    "values",
    "items",
    "lists",
    "dict",
    "copy",
    "urlencode",
):
    setattr(_RecordingQueryDict, _name, _whole(_name))


class _RecordingMeta(dict):
    def __getitem__(self, key: str) -> Any:
        if key == "QUERY_STRING":
            reads.add(EVERY)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        if key == "QUERY_STRING":
            reads.add(EVERY)
        return super().get(key, default)


class RecordQueryReads:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        original = request.GET
        recording = _RecordingQueryDict(mutable=True, encoding=original.encoding)
        for key, values in original.lists():
            recording.setlist(key, values)
        recording._mutable = False
        request.GET = recording
        request.META = _RecordingMeta(request.META)
        reads.clear()
        return self.get_response(request)
