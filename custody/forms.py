"""Forms of the custody pages."""

from django import forms
from django.utils.translation import gettext_lazy as _


class SignOffForm(forms.Form):
    comment = forms.CharField(
        label=_("Review comment"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was reviewed and the conclusion; its SHA-256 is recorded in the custody ledger."),
    )
