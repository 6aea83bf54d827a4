"""One error body for the whole API: {"detail": ..., "code": ...}, domain refusals included, whatever failed and
however (an unknown path, a malformed id, Django's own DEBUG pages). Also turns Django's "No X matches the given
query." into a sentence for a person, on pages and in the API alike."""

import re

from django.conf import settings
from django.core.exceptions import TooManyFilesSent
from django.http import Http404, HttpRequest, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found, server_error
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import exception_handler

from ..exceptions import Refused

API_PREFIX = "/api/"


class ErrorSerializer(serializers.Serializer):
    """The body of every error response, in the OpenAPI schema."""

    detail = serializers.CharField(help_text="What went wrong and what to do, for a person to read.")
    code = serializers.CharField(help_text="Stable machine-readable code: not_found, invalid, throttled, CaseClosed…")
    errors = serializers.JSONField(required=False, help_text="For code `invalid`: the messages by field.")


# Django's wording for a lookup that found nothing, naming the model class.
_NO_MATCH = re.compile(r"^No (\w+) matches the given query\.$")


def not_found_sentence(message: str) -> str:
    """A person's sentence for a 404: what was not found, and that a foreign id looks exactly like a missing one."""
    match = _NO_MATCH.match(message or "")
    if message and not match:
        return message
    things = {
        "Case": _("case"),
        "EvidenceItem": _("evidence item"),
        "Report": _("report"),
        "Invitation": _("invitation"),
        "Membership": _("member"),
        "ApiToken": _("API token"),
    }
    thing = things.get(match.group(1), _("page")) if match else _("page")
    return _(
        "There is no %(thing)s at this address that you can see. It may have been removed, the link may be "
        "mistyped, or it belongs to an organisation you are not working in now (switch in the page header)."
    ) % {"thing": thing}


def api_exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = NotFound(not_found_sentence(str(exc.args[0]) if exc.args else ""))
    if isinstance(exc, Refused):
        return Response({"detail": exc.message, "code": type(exc).__name__}, status=exc.status_code)
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        response.data["code"] = getattr(response.data["detail"], "code", "error")
    elif response is not None:
        response.data = {"detail": _("The request is not valid."), "code": "invalid", "errors": response.data}
    return response


def malformed(request: HttpRequest, exception: Exception):
    """400 raised by Django before a view runs (a body over the size limit, too many fields or files, a host not
    served): the API's body under /api/, else the page in the site layout. Too many files is said as such, with
    the limit (a person can act on it); anything else keeps the general sentence, which echoes nothing sent."""
    body = _STATUS_BODIES[400]()
    if isinstance(exception, TooManyFilesSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        body = {
            "detail": _("This request sent more than %(limit)d files. Send at most %(limit)d files at a time.")
            % {"limit": limit},
            "code": "too_many_files",
        }
    if request.path.startswith(API_PREFIX):
        return JsonResponse(body, status=400)
    # Rendered without the request, as Django renders its own 400 and 500 pages: a request refused this early (a
    # host not served) has not been through the middleware that the layout's context would read.
    return HttpResponseBadRequest(loader.get_template("400.html").render({"message": body["detail"]}))


def not_found(request: HttpRequest, exception: Exception):
    """404 for any URL: the API's error body under /api/ (an unknown path or a malformed id), else the page."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse(_api_not_found_body(), status=404)
    message = exception.args[0] if exception.args and isinstance(exception.args[0], str) else ""
    return page_not_found(request, Http404(not_found_sentence(message)))


def _api_not_found_body() -> dict:
    return {
        "detail": _(
            "Nothing is at this address: the path is unknown, an id is malformed, or the object is not "
            "one you can see in the organisation you act in."
        ),
        "code": "not_found",
    }


class JsonApiErrorsMiddleware:
    """Under /api/, an error answered in anything but JSON (Django's DEBUG pages for an unknown path, a malformed
    id or a crash; a CSRF refusal page) becomes the API's error body with the same status."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith(API_PREFIX)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            # The browsable API's HTML rendering of an error still carries the error body: keep its words.
            data = getattr(response, "data", None)
            if isinstance(data, dict) and "detail" in data:
                body = data
            elif response.status_code in _STATUS_BODIES:
                body = _STATUS_BODIES[response.status_code]()
            else:
                body = {"detail": response.reason_phrase, "code": "error"}
            return JsonResponse(body, status=response.status_code, headers=_kept_headers(response))
        return response


def _kept_headers(response) -> dict:
    return {name: response[name] for name in ("Retry-After", "WWW-Authenticate", "Allow") if response.has_header(name)}


_STATUS_BODIES = {
    400: lambda: {"detail": _("The request is malformed or too large."), "code": "malformed"},
    403: lambda: {"detail": _("You may not do this (for a form post: the CSRF check failed)."), "code": "forbidden"},
    404: _api_not_found_body,
    500: lambda: {"detail": _("The server failed; the error was logged."), "code": "server_error"},
}


def csrf_failure(request: HttpRequest, reason: str = ""):
    """A form refused by the CSRF check (CSRF_FAILURE_VIEW): the API's body under /api/, else the 403 page in the
    site layout with what to do."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse(_STATUS_BODIES[403](), status=403)
    message = _(
        "This form could not be accepted: the page was open too long, or it came from another site. Go back, "
        "reload the page and send it again."
    )
    return render(request, "403.html", {"exception": message}, status=403)


def server_failure(request: HttpRequest):
    """500: the API's error body under /api/, so clients parse one shape whatever failed; else the page."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse(_STATUS_BODIES[500](), status=500)
    return server_error(request)
