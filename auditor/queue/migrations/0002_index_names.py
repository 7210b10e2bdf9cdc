"""The indexes take the names Django gives them in this app (they kept their old ones when the tables moved)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('queue', '0001_initial'),
    ]

    operations = [
        migrations.RenameIndex(
            model_name='reviewitem',
            new_name='queue_revie_dataset_80199a_idx',
            old_name='audits_revi_dataset_be7cc9_idx',
        ),
    ]
