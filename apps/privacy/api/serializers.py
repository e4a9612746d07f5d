from rest_framework import serializers

from apps.privacy.models import Export


class ExportSerializer(serializers.ModelSerializer):
    progress = serializers.FloatField(read_only=True)
    download = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = (
            "id",
            "status",
            "progress",
            "tables_total",
            "tables_done",
            "rows_written",
            "counts",
            "file_size",
            "error",
            "created_at",
            "finished_at",
            "download",
        )
        read_only_fields = fields

    def get_download(self, export: Export) -> str | None:
        if export.status != Export.Status.DONE:
            return None
        return f"/api/privacy/exports/{export.pk}/download/"


class DeleteMyDataSerializer(serializers.Serializer):
    """Either the account's password or, for an account without one, its username typed out."""

    password = serializers.CharField(required=False, allow_blank=True, write_only=True)
    confirm = serializers.CharField(required=False, allow_blank=True)
    delete_account = serializers.BooleanField(default=False)
