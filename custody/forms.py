"""Forms of the custody pages."""

from django import forms


class SignOffForm(forms.Form):
    comment = forms.CharField(
        label="Review comment",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What was reviewed and the conclusion; its SHA-256 is recorded in the custody ledger.",
    )
