from django import forms
from django.utils.translation import gettext_lazy


class ReportVerifyForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Report PDF"), widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"})
    )


class SigningCertificateImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("PKCS#12 file (.p12 or .pfx) with the certificate, its private key and the CA chain"),
        widget=forms.ClearableFileInput(attrs={"accept": ".p12,.pfx,application/x-pkcs12"}),
    )
    password = forms.CharField(
        label=gettext_lazy("Password of the file"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
    )
