from rest_framework import serializers

from apps.privacy.pii.models import PiiFinding, RedactionPolicy, RiskClass


class FindingSerializer(serializers.ModelSerializer):
    """A finding names where PII is, never what it is (the value is not stored)."""

    class Meta:
        model = PiiFinding
        fields = [
            "id",
            "event_id",
            "occurred_at",
            "field",
            "entity_type",
            "risk",
            "span_start",
            "span_end",
            "score",
        ]
        read_only_fields = fields


class FindingFilterSerializer(serializers.Serializer):
    event = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    risk = serializers.ChoiceField(choices=RiskClass.choices, required=False)


class PolicySerializer(serializers.Serializer):
    high = serializers.ChoiceField(choices=RedactionPolicy.Action.choices)
    medium = serializers.ChoiceField(choices=RedactionPolicy.Action.choices)
    low = serializers.ChoiceField(choices=RedactionPolicy.Action.choices)


class RevealRequestSerializer(serializers.Serializer):
    field = serializers.RegexField(
        r"^(title|text|url|data(/[^/]+)+)$",
        max_length=255,
        help_text='"title", "text", "url", or a path into data such as "data/subtitles/0/name"',
    )


class RevealSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    field = serializers.CharField()
    value = serializers.CharField()


class MaskedEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.CharField()  # type: ignore[assignment]
    kind = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    title = serializers.CharField()
    text = serializers.CharField()  # type: ignore[assignment]
    url = serializers.CharField()
    data = serializers.JSONField()  # type: ignore[assignment]
