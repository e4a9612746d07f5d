from rest_framework import serializers

from apps.core.serializers import BoundedListField
from apps.lake.models import Import, ImportEntry, Quarantine, Upload


class UploadCreateSerializer(serializers.Serializer):
    filename = serializers.CharField(max_length=255)
    size = serializers.IntegerField(min_value=1)
    sha256 = serializers.RegexField(r"^[0-9a-fA-F]{64}$")


class UploadSerializer(serializers.ModelSerializer):
    class Meta:
        model = Upload
        fields = [
            "id",
            "filename",
            "size",
            "sha256",
            "received",
            "status",
            "problem",
            "import_run",
            "created_at",
        ]
        read_only_fields = fields


class ImportCreateSerializer(serializers.Serializer):
    # A Takeout of several TB comes in at most a few hundred parts.
    uploads = BoundedListField(child=serializers.IntegerField(), min_length=1, max_length=500)

    def validate_uploads(self, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise serializers.ValidationError("name each upload once")
        return value


class ImportEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = ImportEntry
        fields = [
            "id",
            "part",
            "path",
            "product",
            "size",
            "status",
            "records_written",
            "records_duplicate",
            "records_quarantined",
            "error",
        ]
        read_only_fields = fields


class ImportPartSerializer(serializers.Serializer):
    """A part as the user knows it; where the server keeps it is nobody's business."""

    name = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()


class ImportSerializer(serializers.ModelSerializer):
    progress = serializers.FloatField(read_only=True)
    parts = ImportPartSerializer(many=True, read_only=True)

    class Meta:
        model = Import
        fields = [
            "id",
            "status",
            "parts",
            "bytes_total",
            "bytes_done",
            "progress",
            "members_total",
            "members_done",
            "records_written",
            "records_duplicate",
            "records_quarantined",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class ImportDetailSerializer(ImportSerializer):
    entries = ImportEntrySerializer(many=True, read_only=True)

    class Meta(ImportSerializer.Meta):
        fields = [*ImportSerializer.Meta.fields, "entries"]
        read_only_fields = fields


class QuarantineSerializer(serializers.ModelSerializer):
    path = serializers.CharField(source="entry.path", read_only=True, default="")

    class Meta:
        model = Quarantine
        fields = ["id", "path", "reason", "excerpt", "created_at"]
        read_only_fields = fields
