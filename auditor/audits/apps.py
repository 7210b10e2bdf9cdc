from django.apps import AppConfig


class AuditsConfig(AppConfig):
    """Kept for its migration history only.

    Its tables moved to `auditor.runs` (runs, model versions) and `auditor.queue` (review items, reviews,
    leases); its last migrations rename the tables and hand the models over, so a database made before the
    split upgrades in place. Nothing imports this package.
    """

    name = "auditor.audits"
    label = "audits"
    verbose_name = "Audits (migration history)"
