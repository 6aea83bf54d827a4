"""Forms for the case pages; they validate input only, the services do the writing."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import CaseStatus, Membership, RetentionPolicy
from .roles import Role


class CaseForm(forms.Form):
    title = forms.CharField(
        label=gettext_lazy("Title"),
        max_length=200,
        error_messages={
            "max_length": gettext_lazy(
                "The title is %(show_value)d characters long; the limit is %(limit_value)d. Shorten it and save "
                "again (nothing was saved)."
            )
        },
    )
    description = forms.CharField(
        label=gettext_lazy("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A browser cuts a pasted text at `maxlength` without a word; the server's refusal says so instead.
        self.fields["title"].widget.attrs.pop("maxlength", None)


class AcquisitionForm(forms.Form):
    """Where the uploaded material was found; applies to every file of one upload."""

    found_at = forms.CharField(label=gettext_lazy("Found at (URL or platform)"), max_length=2000, required=False)
    collected_by = forms.CharField(label=gettext_lazy("Collected by"), max_length=200, required=False)
    collected_at = forms.DateTimeField(
        label=gettext_lazy("Collected at (UTC)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=CaseStatus.choices)


class NoteForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("Note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=20000)


class AssignForm(forms.Form):
    investigators = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Investigators"),
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["investigators"].queryset = (
            get_user_model()
            .objects.filter(
                memberships__organisation=organisation,
                memberships__role__in=[Role.INVESTIGATOR, Role.SUPERVISOR, Role.ADMIN],
            )
            .order_by("username")
        )


class MemberRoleForm(forms.Form):
    """Change the role of one of the organisation's members; nobody else can be named here."""

    member = forms.ModelChoiceField(
        label=gettext_lazy("Member"), queryset=Membership.objects.none(), to_field_name="public_id"
    )
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices)

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        members = organisation.memberships.select_related("user").order_by("user__username")
        self.fields["member"].queryset = members
        self.fields["member"].label_from_instance = lambda membership: membership.user.get_username()


class InvitationForm(forms.Form):
    username = forms.CharField(
        label=gettext_lazy("Username"), max_length=150, help_text=gettext_lazy("They join only once they accept.")
    )
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices)

    def __init__(self, *args, **kwargs):
        # Shares the members page with the account form: ids of its own, so each label names its own field.
        kwargs.setdefault("auto_id", "invite-%s")
        super().__init__(*args, **kwargs)


class AccountForm(forms.Form):
    """A new account for someone who has none yet; its only membership is this organisation."""

    username = forms.CharField(label=gettext_lazy("Username"), max_length=150, validators=[UnicodeUsernameValidator()])
    email = forms.EmailField(
        label=gettext_lazy("E-mail address (optional)"),
        required=False,
        help_text=gettext_lazy("Where password reset links go."),
    )
    password = forms.CharField(
        label=gettext_lazy("First password"), widget=forms.PasswordInput, max_length=4096, strip=False
    )
    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=Role.choices)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "account-%s")
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("username") and cleaned.get("password"):
            try:
                validate_password(cleaned["password"], user=get_user_model()(username=cleaned["username"]))
            except ValidationError as invalid:
                self.add_error("password", invalid)
        return cleaned


class TwoFactorPolicyForm(forms.Form):
    required = forms.TypedChoiceField(
        label=gettext_lazy("Two-factor authentication"),
        choices=[
            ("on", gettext_lazy("Required of every member")),
            ("off", gettext_lazy("Each member's choice")),
        ],
        coerce=lambda value: value == "on",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        initial = kwargs.get("initial")
        if initial and isinstance(initial.get("required"), bool):
            kwargs["initial"] = {**initial, "required": "on" if initial["required"] else "off"}
        super().__init__(*args, **kwargs)


class RetentionForm(forms.Form):
    policy = forms.ChoiceField(
        label=gettext_lazy("Retention of media"), choices=RetentionPolicy.choices, widget=forms.RadioSelect
    )
    days = forms.IntegerField(
        label=gettext_lazy("Days after analysis (for the second choice)"), min_value=1, max_value=36500, required=False
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("policy") == RetentionPolicy.AFTER_DAYS and not cleaned.get("days"):
            self.add_error("days", _("Say after how many days media is deleted."))
        return cleaned


class LegalHoldForm(forms.Form):
    hold = forms.TypedChoiceField(
        label=gettext_lazy("Hold"),
        choices=[("on", gettext_lazy("Place a legal hold")), ("off", gettext_lazy("Lift the legal hold"))],
        coerce=lambda value: value == "on",
    )
    reason = forms.CharField(label=gettext_lazy("Reason (recorded in custody)"), max_length=2000)


class MediaDeleteForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason (recorded in custody)"), max_length=400)
