from django import forms


class ReportVerifyForm(forms.Form):
    file = forms.FileField(label="Report PDF", widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}))
