"""Enable the three extensions every other app builds on.

The database backend has already checked that the server offers them
(apps/core/dbbackend/base.py); this makes them exist in this database.
"""

from django.contrib.postgres.operations import CreateExtension
from django.db import migrations


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        CreateExtension("postgis"),
        CreateExtension("vector"),
        CreateExtension("timescaledb"),
    ]
