from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter

from auditor.inputs import IdConverter
from auditor.source import source_archive

# Before the apps' URL modules are read: they name ids as <id:…>.
register_converter(IdConverter, "id")

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("django-admin/", admin.site.urls),
    path("source.zip", source_archive, name="source"),
    path("", include("auditor.review.urls")),
    path("", include("auditor.console.urls")),
    path("", include("auditor.console.dataset_urls")),
]

# JSON on /api/ paths, the site's pages elsewhere.
handler400 = "auditor.inputs.bad_request"
handler403 = "auditor.inputs.permission_denied"
handler404 = "auditor.inputs.page_not_found"
handler500 = "auditor.inputs.server_error"
