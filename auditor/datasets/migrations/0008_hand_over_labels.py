"""Labels and their history move to the `labels` app: the tables are renamed, the models leave this app's state.

`labels.0001_initial` takes the models over in Django's state; no row is copied.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("datasets", "0007_tag_in_focus_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name="label", table="labels_label"),
                migrations.AlterModelTable(name="labelchange", table="labels_labelchange"),
            ],
            state_operations=[
                migrations.DeleteModel(name="Label"),
                migrations.DeleteModel(name="LabelChange"),
            ],
        ),
    ]
