"""Each person's own account pages: password, two-factor authentication (set up, recovery codes, turn off) and
their API tokens (create with a name, list, rename, revoke). Open to anyone signed in, whether or not they belong to an
organisation; nothing here reaches another person's account."""

from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from . import accounts, services
from .auth_views import safe_next_url
from .exceptions import Refused
from .models import ApiToken
from .two_factor import (
    new_totp_key,
    totp_provisioning_uri,
    totp_qr_svg,
    totp_secret_text,
    two_factor_state,
)

CANDIDATE_KEY = "two_factor_candidate_key"


class TokenNameForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name (what the token is for)"),
        max_length=100,
        help_text=gettext_lazy("For example: evidence import script on the unit's laptop."),
    )


class ConfirmCodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("The 6-digit code your app shows now"),
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(label=gettext_lazy("Your password"), widget=forms.PasswordInput, strip=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        if not self.user.check_password(self.cleaned_data["password"]):
            raise forms.ValidationError(_("That is not your password."))
        return self.cleaned_data["password"]


class RecordedPasswordChangeForm(PasswordChangeForm):
    def save(self, commit=True):
        accounts.account_password_set(
            user=self.user, password=self.cleaned_data["new_password1"], how="changed by its holder"
        )
        return self.user


def _account_page(request, *, status=200, **extra):
    enrolled, required = two_factor_state(request.user)
    context = {
        "enrolled": enrolled,
        "required": required,
        "tokens": ApiToken.objects.filter(user=request.user).select_related("organisation").order_by("-created_at"),
        "token_form": extra.pop("token_form", None) or TokenNameForm(),
        "disable_form": extra.pop("disable_form", None) or PasswordConfirmForm(user=request.user),
        **extra,
    }
    return render(request, "account/account.html", context, status=status)


@login_required
def account(request):
    return _account_page(request)


@login_required
@require_POST
def api_token_create(request):
    """A new token for the signed-in person, acting in the organisation they work in now; its secret is shown on
    this answer only."""
    form = TokenNameForm(request.POST)
    if not form.is_valid():
        return _account_page(request, token_form=form, status=400)
    membership = request.membership
    token, secret = services.api_token_create(
        user=request.user,
        name=form.cleaned_data["name"],
        organisation=membership.organisation if membership else None,
    )
    return _account_page(request, new_token=token, new_secret=secret)


@login_required
@require_POST
def api_token_rename(request, token_id: int):
    """Rename one of the signed-in person's own tokens; anyone else's is a 404, like a missing one."""
    token = get_object_or_404(ApiToken.objects.filter(user=request.user), pk=token_id)
    form = TokenNameForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            _("Token %(name)s (%(prefix)s…) was not renamed: %(reason)s")
            % {"name": token.name, "prefix": token.prefix, "reason": " ".join(form.errors["name"])},
        )
        return _account_page(request, status=400)
    try:
        renamed = services.api_token_rename(token=token, name=form.cleaned_data["name"], actor=request.user)
    except Refused as refusal:
        messages.error(request, refusal.message)
        return _account_page(request, status=400)
    messages.success(
        request,
        _("Token %(prefix)s… is now named %(name)s.") % {"prefix": renamed.prefix, "name": renamed.name},
    )
    return redirect("account")


@login_required
@require_POST
def api_token_revoke(request, token_id: int):
    token = get_object_or_404(ApiToken.objects.filter(user=request.user), pk=token_id)
    services.api_token_revoke(token=token, actor=request.user)
    messages.success(
        request, _("Token %(name)s (%(prefix)s…) is revoked.") % {"name": token.name, "prefix": token.prefix}
    )
    return redirect("account")


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = RecordedPasswordChangeForm
    template_name = "account/password_change.html"
    success_url = reverse_lazy("account")

    def form_valid(self, form):
        form.save()
        # Keep this session (its hash follows the new password); sessions elsewhere end.
        update_session_auth_hash(self.request, form.user)
        messages.success(self.request, _("Your password is changed. Sessions on other devices have ended."))
        return redirect(self.get_success_url())


@login_required
def two_factor_setup(request):
    """Set up an authenticator app: its secret lives in this session until a code from the app confirms it, and
    only then is it stored (with new recovery codes, shown once)."""
    enrolled, required = two_factor_state(request.user)
    if enrolled and not request.user.is_verified():
        # Replacing an authenticator takes the current one: a password alone must not swap in the thief's phone.
        return redirect(f"{reverse('account-two-factor-verify')}?next={quote(request.get_full_path())}")
    key = request.session.get(CANDIDATE_KEY)
    if key is None:
        key = request.session[CANDIDATE_KEY] = new_totp_key()
    form = ConfirmCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            enrolment = accounts.two_factor_enable(user=request.user, key_hex=key, code=form.cleaned_data["code"])
        except Refused as refusal:
            form.add_error("code", refusal.message)
        else:
            del request.session[CANDIDATE_KEY]
            otp_login(request, enrolment.device)
            return render(
                request,
                "account/recovery_codes.html",
                {"codes": enrolment.recovery_codes, "next": safe_next_url(request), "first_time": True},
            )
    uri = totp_provisioning_uri(key, request.user.get_username())
    context = {
        "form": form,
        "qr_svg": totp_qr_svg(uri),
        "secret": totp_secret_text(key),
        "enrolled": enrolled,
        "required": required,
        "next": safe_next_url(request),
    }
    return render(request, "account/two_factor_setup.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def two_factor_codes_renew(request):
    enrolled, _required = two_factor_state(request.user)
    if not enrolled:
        return redirect("account-two-factor-setup")
    if not request.user.is_verified():  # the gate holds such a session already; new codes need the second factor
        return redirect("account-two-factor-verify")
    codes = accounts.two_factor_recovery_codes_renew(user=request.user)
    return render(request, "account/recovery_codes.html", {"codes": codes, "next": str(reverse_lazy("account"))})


@login_required
@require_POST
def two_factor_disable(request):
    enrolled, required = two_factor_state(request.user)
    if enrolled and not request.user.is_verified():  # as above: a password alone turns nothing off
        return redirect("account-two-factor-verify")
    form = PasswordConfirmForm(request.POST, user=request.user)
    if not form.is_valid():
        return _account_page(request, disable_form=form, status=400)
    try:
        accounts.two_factor_disable(user=request.user, required=required)
    except Refused as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, _("Two-factor authentication is off for your account."))
    return redirect("account")
