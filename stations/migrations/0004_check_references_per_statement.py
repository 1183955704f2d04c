"""On PostgreSQL, the references of meter values and journal frames (to station, connector and session) are
checked once per statement instead of once per row: see _references.py. Status history keeps its row-level
constraints (a few rows per batch)."""

from django.db import migrations

from stations.migrations._references import CheckReferencesPerStatement


class Migration(migrations.Migration):

    dependencies = [
        ("stations", "0003_drop_indexes_covered_by_composites"),
    ]

    operations = [
        CheckReferencesPerStatement("metervalue", "charge_point"),
        CheckReferencesPerStatement("metervalue", "connector"),
        CheckReferencesPerStatement("metervalue", "session"),
        CheckReferencesPerStatement("ocppmessage", "charge_point"),
    ]
