"""What every page's frame needs."""

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, str]:
    return {"source_url": settings.SOURCE_URL}
