"""Label and LabelChange, handed over from the `datasets` app.

The tables are already in place (renamed by the datasets app's previous migration), so the models are created in
Django's state only. Their content types are relabelled, keeping their ids (and any permissions given on them).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from auditor.migration_moves import relabel_content_types


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('datasets', '0008_hand_over_labels'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Label',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('present', models.BooleanField()),
                        ('verified', models.BooleanField(default=False)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('clip', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='labels', to='datasets.clip')),
                        ('dataset', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='labels', to='datasets.dataset')),
                        ('tag', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='labels', to='datasets.tag')),
                    ],
                    options={
                        'indexes': [models.Index(fields=['dataset', 'tag'], name='datasets_la_dataset_62a8cf_idx')],
                        'constraints': [models.UniqueConstraint(fields=('clip', 'tag'), name='label_unique_pair'), models.CheckConstraint(condition=models.Q(('present', True), ('verified', True), _connector='OR'), name='label_row_carries_information')],
                    },
                ),
                migrations.CreateModel(
                    name='LabelChange',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('before', models.BooleanField()),
                        ('after', models.BooleanField()),
                        ('source', models.CharField(choices=[('import', 'import'), ('review', 'review'), ('admin', 'admin')], max_length=16)),
                        ('review_id', models.BigIntegerField(blank=True, null=True)),
                        ('reason', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('clip', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='label_changes', to='datasets.clip')),
                        ('dataset', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='label_changes', to='datasets.dataset')),
                        ('import_batch', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to='datasets.importbatch')),
                        ('tag', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='label_changes', to='datasets.tag')),
                        ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'ordering': ['-created_at', '-id'],
                        'indexes': [models.Index(fields=['clip', 'tag'], name='datasets_la_clip_id_6e9a8b_idx'), models.Index(fields=['dataset', 'tag', 'created_at'], name='datasets_la_dataset_6abcc7_idx')],
                    },
                ),
            ],
        ),
        relabel_content_types('datasets', 'labels', ['label', 'labelchange']),
    ]
