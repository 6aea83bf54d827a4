"""Report pages: request a report from the evidence or case page, download one (a custody event), and the public
verification page where anyone holding a PDF learns whether this system issued it, unaltered."""

from django.contrib import messages
from django.core.files.storage import storages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from cases.exceptions import Refused
from cases.roles import Scope
from cases.views_base import MemberView

from .forms import ReportVerifyForm
from .services import report_download_record, report_request
from .verification import report_verify_file
from .verify_limits import ReportVerifyThrottle, report_upload_limit, report_upload_refusal_raise


class EvidenceReportCreateView(MemberView, View):
    required_scope = Scope.EVIDENCE_UPLOAD

    def post(self, request, evidence_id):
        item = self.evidence
        _request_report(request, case=item.case, evidence=item)
        return redirect("cases:evidence-detail", evidence_id=item.public_id)


class CaseReportCreateView(MemberView, View):
    required_scope = Scope.EVIDENCE_UPLOAD

    def post(self, request, case_id):
        case = self.case
        _request_report(request, case=case)
        return redirect("cases:detail", case_id=case.public_id)


def _request_report(request, *, case, evidence=None) -> None:
    try:
        report = report_request(actor=request.user, case=case, evidence=evidence)
    except Refused as refusal:
        messages.error(request, refusal.message)
        return
    messages.success(
        request,
        _("%(kind)s %(report)s queued; it is ready in a moment.")
        % {"kind": report.get_kind_display(), "report": report.public_id},
    )


class ReportDownloadView(MemberView, View):
    required_scope = Scope.CASE_READ

    def get(self, request, report_id):
        report = self.report
        if not report.is_ready:
            messages.error(request, _("That report is not ready yet; reload the page in a moment."))
            if report.evidence_id:
                return redirect("cases:evidence-detail", evidence_id=report.evidence.public_id)
            return redirect("cases:detail", case_id=report.case.public_id)
        report_download_record(report=report, actor=request.user)
        stored = storages["reports"].open(report.storage_key, "rb")
        return FileResponse(stored, as_attachment=True, filename=report.filename, content_type="application/pdf")


@csrf_exempt  # the CSRF check reads the body, which must wait for the limits; _report_verify_form checks it
def report_verify_page(request):
    """No login: the answer discloses only what the file itself already says (its ids and date), or nothing."""
    if request.method == "POST":
        throttle = ReportVerifyThrottle()
        if not throttle.allow_request(request, None):
            refusal = _("Too many verifications from this address; try again later.")
            response = _verify_page(request, ReportVerifyForm(), refusal=refusal, status=429)
            response["Retry-After"] = str(int(throttle.wait() or 1))
            return response
        try:
            report_upload_limit(request)
        except Refused as refusal:
            return _verify_page(request, ReportVerifyForm(), refusal=refusal.message, status=refusal.status_code)
    return _report_verify_form(request)


@csrf_protect
def _report_verify_form(request):
    if request.method != "POST":
        return _verify_page(request, ReportVerifyForm())
    try:
        report_upload_refusal_raise(request)
    except Refused as refusal:
        return _verify_page(request, ReportVerifyForm(), refusal=refusal.message, status=refusal.status_code)
    form = ReportVerifyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _verify_page(request, form, status=400)
    upload = form.cleaned_data["file"]
    try:
        verification = report_verify_file(upload)
    finally:
        upload.close()
    return _verify_page(request, form, verification=verification)


def _verify_page(request, form, *, verification=None, refusal: str = "", status: int = 200):
    context = {"form": form, "verification": verification, "refusal": refusal}
    return render(request, "reports/verify.html", context, status=status)
