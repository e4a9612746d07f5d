from django.db import migrations


class Migration(migrations.Migration):
    """Semantic search and the timeline/series were built side by side; nothing to change."""

    dependencies = [
        ("analytics", "0001_embedding"),
        ("analytics", "0002_daily_series"),
    ]

    operations = []
