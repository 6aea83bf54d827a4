from django import forms


class ReportVerifyForm(forms.Form):
    file = forms.FileField(label="Report PDF", widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}))


class SigningCertificateImportForm(forms.Form):
    file = forms.FileField(
        label="PKCS#12 file (.p12 or .pfx) with the certificate, its private key and the CA chain",
        widget=forms.ClearableFileInput(attrs={"accept": ".p12,.pfx,application/x-pkcs12"}),
    )
    password = forms.CharField(
        label="Password of the file", required=False, strip=False, widget=forms.PasswordInput(render_value=False)
    )
