"""What anyone may send to report verification, enforced before the body is read: one file no larger than the
largest report this system issues, at EVIDENCEMEDIA_VERIFY_RATE per real client address, page and API together."""

from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework.throttling import SimpleRateThrottle

from cases.client_address import client_address
from cases.exceptions import Refused

from .verification import MAX_REPORT_BYTES

# Room for the multipart headers and the page's CSRF field around the one file.
FORM_ALLOWANCE_BYTES = 64 * 1024


class ReportUploadTooLarge(Refused):
    status_code = 413

    def __init__(self):
        super().__init__(
            _(
                "Not a report: the file is larger than %(megabytes)d MB, far larger than any report this system "
                "issues. Nothing was kept."
            )
            % {"megabytes": MAX_REPORT_BYTES // (1024 * 1024)}
        )


class OneReportPerVerification(Refused):
    def __init__(self):
        super().__init__(_("Send one file per verification; nothing was kept."))


class ReportVerifyThrottle(SimpleRateThrottle):
    """One budget per client address for the page and the API together; reading the page costs nothing."""

    scope = "anonymous-verify"

    def allow_request(self, request, view) -> bool:
        return request.method != "POST" or super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}


class ReportUploadHandler(TemporaryFileUploadHandler):
    """Receives at most one file of at most MAX_REPORT_BYTES, counting bytes as they arrive."""

    def __init__(self, request: HttpRequest):
        super().__init__(request)
        self.files_begun = 0

    def new_file(self, *args, **kwargs) -> None:
        self.files_begun += 1
        if self.files_begun > 1:
            self._refuse(OneReportPerVerification())
        super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > MAX_REPORT_BYTES:
            self._refuse(ReportUploadTooLarge())
        return super().receive_data_chunk(raw_data, start)

    def _refuse(self, refusal: Refused) -> None:
        # Raised from here the refusal would surface as a 500; stopping the parse (which deletes the spool file)
        # and leaving the refusal on the request lets the view answer it.
        self.request.report_upload_refusal = refusal
        raise StopUpload(connection_reset=True)


def report_upload_limit(request: HttpRequest) -> None:
    """Call before anything reads the body: refuse a declared length no report can have, without reading a byte,
    and have the rest received by the limited handler (instead of the evidence spool's)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0  # Django reads no body it cannot size
    if declared > MAX_REPORT_BYTES + FORM_ALLOWANCE_BYTES:
        raise ReportUploadTooLarge()
    request.upload_handlers = [ReportUploadHandler(request)]


def report_upload_refusal_raise(request: HttpRequest) -> None:
    """The refusal the handler recorded while reading the body, if any (whatever was spooled is discarded)."""
    files = request.FILES  # reads the body through the limited handler, unless something already has
    refusal = getattr(request, "report_upload_refusal", None)
    if refusal is not None:
        for _field, uploads in files.lists():
            for upload in uploads:
                upload.close()
        raise refusal
