"""One error body for the whole API: {"detail": ..., "code": ...}, domain refusals included."""

from rest_framework.response import Response
from rest_framework.views import exception_handler

from ..exceptions import Refused


def api_exception_handler(exc, context):
    if isinstance(exc, Refused):
        return Response({"detail": exc.message, "code": type(exc).__name__}, status=exc.status_code)
    response = exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" in response.data:
        response.data["code"] = getattr(response.data["detail"], "code", "error")
    elif response is not None:
        response.data = {"detail": "The request is not valid.", "code": "invalid", "errors": response.data}
    return response
