"""Log-in under django-axes' lock-out, for the log-in page, the admin and the API token endpoint alike.

Axes checks the lock-out before the password and records the failure after it; two guesses arriving together
would both pass the check. `login_attempts_serialised` makes check, password and record one step per username.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from axes.helpers import get_cool_off
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from .api.errors import API_PREFIX


@contextmanager
def login_attempts_serialised(username: str | None) -> Iterator[None]:
    """Hold the account's row while its lock-out is checked, its password compared and a failure recorded.

    A username with no account has no row and nothing to guess; on SQLite the transaction itself (BEGIN
    IMMEDIATE) already admits one writer at a time. A refused log-in is an answer, not an error: the failure
    recorded inside is committed before the refusal goes on.
    """
    refusal = None
    with transaction.atomic():
        if username:
            list(get_user_model().objects.select_for_update().filter(username=username).values_list("pk"))
        try:
            yield
        except ValidationError as invalid_login:
            refusal = invalid_login
    if refusal is not None:
        raise refusal


class SerialisedLoginMixin:
    def clean(self):
        with login_attempts_serialised(self.cleaned_data.get("username")):
            return super().clean()


class LoginForm(SerialisedLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(SerialisedLoginMixin, AdminAuthenticationForm):
    pass


class LoginView(auth_views.LoginView):
    authentication_form = LoginForm


def lockout_response(request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None):
    """What a locked-out log-in gets (AXES_LOCKOUT_CALLABLE): the API's error body under /api/, else the page."""
    seconds = int(get_cool_off(request).total_seconds())
    if request.path.startswith(API_PREFIX):
        body = {
            "detail": f"Too many failed log-ins for this user; try again in {seconds // 60} minutes.",
            "code": "throttled",
        }
        return JsonResponse(body, status=429, headers={"Retry-After": str(seconds)})
    response = render(request, "registration/too_many_attempts.html", {"minutes": seconds // 60}, status=429)
    response["Retry-After"] = str(seconds)
    return response
