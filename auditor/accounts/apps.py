from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "auditor.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        from auditor.accounts.admin_permissions import grant_admin_role_permissions  # models are loaded only now

        # Connected after django.contrib.auth's own receiver (auth comes first in INSTALLED_APPS), which makes the
        # permissions this one hands out.
        post_migrate.connect(grant_admin_role_permissions, dispatch_uid="auditor.accounts.grant_admin_role")
