"""ReviewItem, Review and Lease, handed over from the `audits` app.

The tables are already in place (renamed by the audits app's previous migration), so the models are created in
Django's state only. Their content types are relabelled, keeping their ids (and any permissions given on them).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from auditor.migration_moves import relabel_content_types


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('audits', '0007_hand_over_to_runs_and_queue'),
        ('datasets', '0008_hand_over_labels'),
        ('runs', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ReviewItem',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('flagged', 'flagged'), ('calibration', 'calibration'), ('external', 'external')], max_length=16)),
                        ('status', models.CharField(choices=[('open', 'open'), ('resolved', 'resolved'), ('superseded', 'superseded')], default='open', max_length=16)),
                        ('given', models.BooleanField()),
                        ('probability', models.FloatField(blank=True, null=True)),
                        ('score', models.FloatField(default=0.0)),
                        ('priority', models.FloatField(db_index=True, default=0.0)),
                        ('stratum', models.CharField(blank=True, max_length=16)),
                        ('stratum_size', models.PositiveIntegerField(blank=True, null=True)),
                        ('inclusion_probability', models.FloatField(blank=True, null=True)),
                        ('required_reviews', models.PositiveSmallIntegerField(default=1)),
                        ('resolution', models.BooleanField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('resolved_at', models.DateTimeField(blank=True, null=True)),
                        ('clip', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='review_items', to='datasets.clip')),
                        ('dataset', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='review_items', to='datasets.dataset')),
                        ('run', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='items', to='runs.auditrun')),
                        ('tag', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='review_items', to='datasets.tag')),
                    ],
                    options={
                        'ordering': ['-priority', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='Review',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('decision', models.CharField(choices=[('present', 'present'), ('absent', 'absent'), ('unsure', 'unsure')], max_length=16)),
                        ('source', models.CharField(default='web', max_length=16)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reviews', to=settings.AUTH_USER_MODEL)),
                        ('item', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='reviews', to='queue.reviewitem')),
                    ],
                    options={
                        'ordering': ['created_at', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='Lease',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('expires_at', models.DateTimeField(db_index=True)),
                        ('skipped', models.BooleanField(default=False)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='leases', to=settings.AUTH_USER_MODEL)),
                        ('item', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='leases', to='queue.reviewitem')),
                    ],
                ),
                migrations.AddIndex(
                    model_name='reviewitem',
                    index=models.Index(fields=['dataset', 'status', '-priority'], name='audits_revi_dataset_be7cc9_idx'),
                ),
                migrations.AddIndex(
                    model_name='reviewitem',
                    index=models.Index(condition=models.Q(('status', 'open')), fields=['-priority', 'id'], name='review_item_open_queue'),
                ),
                migrations.AddConstraint(
                    model_name='reviewitem',
                    constraint=models.UniqueConstraint(condition=models.Q(('status', 'open')), fields=('clip', 'tag'), name='review_item_one_open_per_pair'),
                ),
                migrations.AddConstraint(
                    model_name='review',
                    constraint=models.UniqueConstraint(fields=('item', 'user'), name='review_one_per_user_and_item'),
                ),
                migrations.AddConstraint(
                    model_name='lease',
                    constraint=models.UniqueConstraint(fields=('item', 'user'), name='lease_one_per_user_and_item'),
                ),
            ],
        ),
        relabel_content_types('audits', 'queue', ['reviewitem', 'review', 'lease']),
    ]
