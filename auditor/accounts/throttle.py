"""Who a login attempt comes from, for login throttling (django-axes, configured in settings)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def _valid_address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str | None:
    """The client's address: behind a TLS proxy (BEHIND_PROXY), the last address in X-Forwarded-For, which the
    proxy itself appended (earlier entries are whatever the client sent, so they are not trusted); otherwise the
    connection's address. Without this, every client behind the proxy would share one address and one count."""
    if settings.BEHIND_PROXY:
        forwarded = _valid_address(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1])
        if forwarded is not None:
            return forwarded
    return _valid_address(request.META.get("REMOTE_ADDR", ""))


def lockout_response(request: HttpRequest, original_response: HttpResponse, credentials: dict | None) -> HttpResponse:
    """What a locked-out login gets (django-axes calls this): 429 and a page that says how long to wait."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
