from django.db import migrations


class Migration(migrations.Migration):
    """Exports and PII findings were built side by side; nothing to change."""

    dependencies = [
        ("privacy", "0002_export"),
        ("privacy", "0002_pii_findings_and_policy"),
    ]

    operations = []
