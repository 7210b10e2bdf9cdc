from django.urls import path

from auditor.console import dataset_views as views

urlpatterns = [
    path("", views.home, name="home"),
    path("datasets/import", views.dataset_import, name="dataset-import"),
    path("datasets/<str:name>/labels.csv", views.dataset_export, name="dataset-export"),
    path("datasets/<str:name>/settings", views.dataset_settings, name="dataset-settings"),
]
