"""Serializer pieces every API shares."""

from __future__ import annotations

from rest_framework import serializers


class BoundedListField(serializers.ListField):
    """A ListField that checks its length before validating each item.

    DRF's own max_length runs after the items: a list of 100,000 bad items
    would be validated one by one and echoed back as 100,000 errors.
    """

    def to_internal_value(self, data):
        if self.max_length is not None and hasattr(data, "__len__") and not isinstance(data, str):
            if len(data) > self.max_length:
                self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


def shortened(items: list, limit: int = 10) -> str:
    """A list for an error message, cut after ``limit`` items."""
    shown = ", ".join(map(str, items[:limit]))
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit} more"
