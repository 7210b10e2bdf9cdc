"""Loading the logged-in user on every request in one statement, with the role groups every view checks."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, User
from django.db import connection

from auditor import rawsql
from auditor.accounts.roles import remember_roles


class UserWithRolesBackend(ModelBackend):
    """Django's ModelBackend, except that the user comes with the names of their groups.

    Every page and API call checks the role (auditor.accounts.roles), so loading the user and then their groups
    took two statements per request; this is one, hand-written (it runs on every answer; see auditor.rawsql).
    """

    def get_user(self, user_id: Any) -> User | None:
        user_model = get_user_model()
        memberships = user_model.groups.through
        member = rawsql.quote(rawsql.concrete_field(memberships, str(user_model._meta.model_name)).column)
        group = rawsql.quote(rawsql.concrete_field(memberships, "group").column)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {rawsql.columns(user_model, 'u')}, g.name FROM {rawsql.table(user_model)} u"
                f" LEFT JOIN {rawsql.table(memberships)} m ON m.{member} = u.{rawsql.quote(user_model._meta.pk.column)}"
                f" LEFT JOIN {rawsql.table(Group)} g ON g.id = m.{group}"
                f" WHERE u.{rawsql.quote(user_model._meta.pk.column)} = %s",
                [user_id],
            )
            rows = cursor.fetchall()
        if not rows:
            return None
        width = rawsql.width(user_model)
        user = rawsql.from_row(user_model, rows[0][:width])
        remember_roles(user, {row[width] for row in rows if row[width] is not None})
        return user if self.user_can_authenticate(user) else None
