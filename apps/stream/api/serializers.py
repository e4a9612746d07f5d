from rest_framework import serializers


class IngestKeySerializer(serializers.Serializer):
    key_id = serializers.CharField()
    created_at = serializers.DateTimeField()


class IssuedIngestKeySerializer(serializers.Serializer):
    key_id = serializers.CharField()
    api_key = serializers.CharField(help_text="shown once: send as Authorization: Bearer <api_key>")
    secret = serializers.CharField(help_text="shown once: the HMAC secret for signed requests")
