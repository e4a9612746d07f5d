from django.db import migrations


class Migration(migrations.Migration):
    """Inbound streams and outbound dead letters were built side by side; nothing to change."""

    dependencies = [
        ("stream", "0001_dead_letter"),
        ("stream", "0001_inbound_keys_webhooks_deliveries"),
    ]

    operations = []
