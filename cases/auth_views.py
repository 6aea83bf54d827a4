"""Signing in: the password under django-axes' lock-out (log-in page, admin and API token endpoint alike), the
second factor, and the password reset by e-mail. Every sign-in and every refused password or code of an existing
account is recorded in the custody ledger of the account's organisations (cases/accounts.py).

Axes checks the lock-out before the password and records the failure after it; two guesses arriving together
would both pass the check. `login_attempts_serialised` makes check, password and record one step per username.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django import forms
from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import login as otp_login

from . import accounts
from .api.errors import API_PREFIX
from .client_address import client_address
from .two_factor import two_factor_state


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
        username = self.cleaned_data.get("username")
        # A try while locked out checks no password: it is axes' to count, not a guess at the password to record.
        locked_before = bool(username) and AxesProxyHandler.is_locked(self.request, {"username": username})
        try:
            with login_attempts_serialised(username):
                return super().clean()
        except ValidationError as refusal:
            if refusal.code == "invalid_login" and not locked_before:
                accounts.account_sign_in_failure_record(username=username, address=client_address(self.request))
            raise


class LoginForm(SerialisedLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(SerialisedLoginMixin, AdminAuthenticationForm):
    pass


class LoginView(auth_views.LoginView):
    """The password step. Someone with an authenticator is signed in but held at the code page by
    cases.two_factor.TwoFactorMiddleware, and the sign-in is recorded once the code is given."""

    authentication_form = LoginForm

    def form_valid(self, form):
        response = super().form_valid(form)
        enrolled, _required = two_factor_state(form.get_user())
        if not enrolled:
            accounts.account_sign_in_record(
                user=form.get_user(), address=client_address(self.request), method="password"
            )
        return response


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code from your authenticator app, or a recovery code"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )


@login_required
def second_factor_verify(request):
    """The second step of signing in, for someone who has an authenticator."""
    destination = safe_next_url(request)
    if request.user.is_verified() or not two_factor_state(request.user)[0]:
        return redirect(destination)  # nothing to verify: already done, or no authenticator to ask
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        verification = accounts.two_factor_verify(
            user=request.user, code=form.cleaned_data["code"], address=client_address(request)
        )
        if verification.device is not None:
            otp_login(request, verification.device)
            method = (
                "password and recovery code"
                if verification.recovery_codes_left is not None
                else "password and authenticator app"
            )
            accounts.account_sign_in_record(user=request.user, address=client_address(request), method=method)
            if verification.recovery_codes_left is not None:
                messages.warning(
                    request,
                    _("You signed in with a recovery code; %(left)d are left. Make new ones on your account page.")
                    % {"left": verification.recovery_codes_left},
                )
            return redirect(destination)
        form.add_error(
            "code",
            _("Too many wrong codes: wait a few seconds, then try again.")
            if verification.throttled
            else _("That code is not right. Enter the newest code from your app, or an unused recovery code."),
        )
    status = 400 if form.errors else 200
    return render(request, "registration/second_factor.html", {"form": form, "next": destination}, status=status)


def safe_next_url(request) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return wanted
    return str(reverse_lazy("cases:dashboard"))


class RecordedSetPasswordForm(SetPasswordForm):
    """Django's new-password form for the e-mailed reset link, writing through the recorded service."""

    def save(self, commit=True):
        accounts.account_password_set(
            user=self.user, password=self.cleaned_data["new_password1"], how="reset by e-mail link"
        )
        return self.user


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = RecordedSetPasswordForm
    success_url = reverse_lazy("password_reset_complete")


def lockout_response(request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None):
    """What a locked-out log-in gets (AXES_LOCKOUT_CALLABLE): the API's error body under /api/, else the page."""
    seconds = int(get_cool_off(request).total_seconds())
    if request.path.startswith(API_PREFIX):
        body = {
            "detail": _("Too many failed log-ins for this user; try again in %(minutes)d minutes.")
            % {"minutes": seconds // 60},
            "code": "throttled",
        }
        return JsonResponse(body, status=429, headers={"Retry-After": str(seconds)})
    response = render(request, "registration/too_many_attempts.html", {"minutes": seconds // 60}, status=429)
    response["Retry-After"] = str(seconds)
    return response
