"""One error body for the whole API: {"detail": ..., "code": ...}, domain refusals included."""

from django.http import HttpRequest, JsonResponse
from django.views.defaults import bad_request, page_not_found, server_error
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler

from ..exceptions import Refused

API_PREFIX = "/api/"


class ErrorSerializer(serializers.Serializer):
    """The body of every error response, in the OpenAPI schema."""

    detail = serializers.CharField(help_text="What went wrong and what to do, for a person to read.")
    code = serializers.CharField(help_text="Stable machine-readable code: not_found, invalid, throttled, CaseClosed…")
    errors = serializers.JSONField(required=False, help_text="For code `invalid`: the messages by field.")


def api_exception_handler(exc, context):
    if isinstance(exc, Refused):
        return Response({"detail": exc.message, "code": type(exc).__name__}, status=exc.status_code)
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        response.data["code"] = getattr(response.data["detail"], "code", "error")
    elif response is not None:
        response.data = {"detail": "The request is not valid.", "code": "invalid", "errors": response.data}
    return response


def malformed(request: HttpRequest, exception: Exception):
    """400 raised by Django before a view runs (a body over the size limit, too many fields): the API's body."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "The request is malformed or too large.", "code": "malformed"}, status=400)
    return bad_request(request, exception)


def not_found(request: HttpRequest, exception: Exception):
    """404 for any URL: the API's error body under /api/ (an unknown path or a malformed id), else the page."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return page_not_found(request, exception)


def server_failure(request: HttpRequest):
    """500: the API's error body under /api/, so clients parse one shape whatever failed; else the page."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": "The server failed; the error was logged.", "code": "server_error"}, status=500)
    return server_error(request)
