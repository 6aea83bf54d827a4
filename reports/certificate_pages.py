"""The organisation's report-signing certificate page: what reports are signed with now, and the import of the
organisation's own certificate from its CA (administrators only)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from cases.roles import Scope
from cases.views_base import MemberView

from .certificates import (
    CertificateRefused,
    Pkcs12UploadHandler,
    signing_certificate_describe,
    signing_certificate_import,
)
from .forms import SigningCertificateImportForm


# The CSRF check reads the body, which must wait until the upload handler is set; post() checks it then.
@method_decorator(csrf_exempt, name="dispatch")
class SigningCertificateView(MemberView, View):
    required_scope = Scope.ORG_MANAGE

    def get(self, request, form=None, status=200):
        organisation = self.membership.organisation
        context = {
            "organisation": organisation,
            "certificate": signing_certificate_describe(organisation),
            "form": form or SigningCertificateImportForm(),
        }
        return render(request, "reports/signing_certificate.html", context, status=status)

    def post(self, request):
        request.upload_handlers = [Pkcs12UploadHandler(request)]
        return csrf_protect(self._import)(request)

    def _import(self, request):
        form = SigningCertificateImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.get(request, form=form, status=400)
        upload = form.cleaned_data["file"]
        try:
            imported = signing_certificate_import(
                organisation=self.membership.organisation,
                pkcs12_data=upload.read(),
                password=form.cleaned_data["password"],
                actor=request.user,
            )
        except CertificateRefused as refusal:
            form.add_error("file", refusal.message)
            return self.get(request, form=form, status=400)
        finally:
            upload.close()
        messages.success(
            request,
            _("Reports are now signed with %(subject)s (issued by %(issuer)s).")
            % {"subject": imported.subject, "issuer": imported.issuer},
        )
        return redirect("reports:signing-certificate")
