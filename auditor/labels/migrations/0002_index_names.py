"""The indexes take the names Django gives them in this app (they kept their old ones when the tables moved)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('labels', '0001_initial'),
    ]

    operations = [
        migrations.RenameIndex(
            model_name='label',
            new_name='labels_labe_dataset_db1cf6_idx',
            old_name='datasets_la_dataset_62a8cf_idx',
        ),
        migrations.RenameIndex(
            model_name='labelchange',
            new_name='labels_labe_clip_id_6b0c1e_idx',
            old_name='datasets_la_clip_id_6e9a8b_idx',
        ),
        migrations.RenameIndex(
            model_name='labelchange',
            new_name='labels_labe_dataset_eb5f72_idx',
            old_name='datasets_la_dataset_6abcc7_idx',
        ),
    ]
