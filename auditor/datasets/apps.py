from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "auditor.datasets"
    label = "datasets"
    verbose_name = "Datasets, tags and clips"
