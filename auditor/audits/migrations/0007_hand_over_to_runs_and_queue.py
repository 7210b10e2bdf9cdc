"""This app's models move: runs and model versions to `runs`; review items, reviews and leases to `queue`.

The tables are renamed here and the models leave this app's state; `runs.0001_initial` and `queue.0001_initial`
take them over in Django's state. No row is copied, so a database made before the split upgrades in place.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("audits", "0006_queue_tables_autovacuum"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name="auditrun", table="runs_auditrun"),
                migrations.AlterModelTable(name="modelversion", table="runs_modelversion"),
                migrations.AlterModelTable(name="reviewitem", table="queue_reviewitem"),
                migrations.AlterModelTable(name="review", table="queue_review"),
                migrations.AlterModelTable(name="lease", table="queue_lease"),
            ],
            state_operations=[
                migrations.DeleteModel(name="Lease"),
                migrations.DeleteModel(name="Review"),
                migrations.DeleteModel(name="ReviewItem"),
                migrations.DeleteModel(name="ModelVersion"),
                migrations.DeleteModel(name="AuditRun"),
            ],
        ),
    ]
