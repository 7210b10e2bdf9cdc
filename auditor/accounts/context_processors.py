from django.http import HttpRequest

from auditor.accounts.roles import is_admin, is_annotator


def roles(request: HttpRequest) -> dict[str, bool]:
    user = request.user
    return {"user_is_admin": is_admin(user), "user_is_annotator": is_annotator(user)}
