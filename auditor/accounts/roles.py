"""The two roles of the site and the checks every view makes with them.

Roles are Django groups, so an admin can grant them in the Django admin; superusers count as admins.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser, Group, User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse

ADMIN_GROUP = "admin"
ANNOTATOR_GROUP = "annotator"
ROLE_GROUPS = (ADMIN_GROUP, ANNOTATOR_GROUP)


class AuthenticatedRequest(HttpRequest):
    """The request a view behind a role check gets: its user is signed in (for the type checker)."""

    user: User


def remember_roles(user: User, names: set[str]) -> None:
    """Keep the user's role group names on the instance for the rest of the request (the backend loads them)."""
    user._role_group_names = names  # type: ignore[attr-defined]  # a per-request cache, not a field


def _group_names(user: User | AnonymousUser) -> set[str]:
    if not isinstance(user, User):
        return set()
    cached = getattr(user, "_role_group_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        remember_roles(user, cached)
    return cached


def recorded_user(user: User | AnonymousUser | None) -> User | None:
    """The user to store on a row (who imported, changed, requested): None for the command line or anonymous."""
    return user if isinstance(user, User) else None


def is_admin(user: User | AnonymousUser) -> bool:
    return isinstance(user, User) and (user.is_superuser or ADMIN_GROUP in _group_names(user))


def is_annotator(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and (is_admin(user) or ANNOTATOR_GROUP in _group_names(user)))


def _role_required(check: Callable[[Any], bool], refusal: str) -> Callable[[Callable[..., HttpResponseBase]], Callable]:
    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        @login_required
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not check(request.user):
                raise PermissionDenied(refusal)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


# Pages: logged-out users go to the login page; logged-in users without the role get 403.
admin_required = _role_required(is_admin, "This page is for admins.")
annotator_required = _role_required(is_annotator, "This page is for annotators.")


def api_annotator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """API endpoints for reviewing: JSON 401 when not logged in, 403 without a role (no redirects)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return JsonResponse({"error": "log in first (session cookie)"}, status=401)
        if not is_annotator(request.user):
            return JsonResponse({"error": "this endpoint is for annotators"}, status=403)
        return view(request, *args, **kwargs)

    return wrapper


@transaction.atomic
def create_or_reset_user(username: str, *, role: str, password: str | None = None) -> tuple[User, str]:
    """Create the user (or reset its password) with the given role; returns (user, password)."""
    if role not in ROLE_GROUPS:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLE_GROUPS)}")
    password = password or secrets.token_urlsafe(12)
    user, _ = User.objects.get_or_create(username=username)
    user.set_password(password)
    user.is_staff = role == ADMIN_GROUP  # admins may also use the Django admin (schedules, raw rows)
    user.save()
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user, password
