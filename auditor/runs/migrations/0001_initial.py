"""AuditRun and ModelVersion, handed over from the `audits` app.

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
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AuditRun',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('audit', 'audit'), ('retrain', 'retrain'), ('rescore', 're-score with the active model')], max_length=16)),
                        ('status', models.CharField(choices=[('queued', 'queued'), ('running', 'running'), ('succeeded', 'succeeded'), ('failed', 'failed')], default='queued', max_length=16)),
                        ('stage', models.CharField(blank=True, max_length=64)),
                        ('progress', models.FloatField(default=0.0)),
                        ('message', models.CharField(blank=True, max_length=300)),
                        ('error', models.TextField(blank=True)),
                        ('params', models.JSONField(default=dict)),
                        ('run_dir', models.CharField(blank=True, max_length=1024)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('heartbeat_at', models.DateTimeField(blank=True, null=True)),
                        ('cancel_requested_at', models.DateTimeField(blank=True, null=True)),
                        ('cancel_requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('dataset', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='runs', to='datasets.dataset')),
                        ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='ModelVersion',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('number', models.PositiveIntegerField()),
                        ('config', models.JSONField(default=dict)),
                        ('metrics', models.JSONField(default=dict)),
                        ('macro_auc_given', models.FloatField(blank=True, null=True)),
                        ('macro_auc_verified', models.FloatField(blank=True, null=True)),
                        ('artifact_path', models.CharField(max_length=1024)),
                        ('active', models.BooleanField(default=False)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('dataset', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='model_versions', to='datasets.dataset')),
                        ('run', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='model_version', to='runs.auditrun')),
                    ],
                    options={
                        'ordering': ['dataset', '-number'],
                        'constraints': [models.UniqueConstraint(fields=('dataset', 'number'), name='model_version_unique_number'), models.UniqueConstraint(condition=models.Q(('active', True)), fields=('dataset',), name='model_version_one_active_per_dataset')],
                    },
                ),
            ],
        ),
        relabel_content_types('audits', 'runs', ['auditrun', 'modelversion']),
    ]
