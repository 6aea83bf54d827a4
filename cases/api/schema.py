"""The OpenAPI schema generator: drf-spectacular's, plus the error responses every operation can give.

Each operation documents the error statuses it can actually produce, all with the one error body, so a client
generated from the schema knows every status it will meet (and the schemathesis suite holds the server to it).
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from .errors import ErrorSerializer

ERROR_DESCRIPTIONS = {
    "400": "The request is not valid; `errors` names the fields.",
    "401": "No or an invalid token or session.",
    "403": "The caller's role does not allow this, or they are not a member of any organisation.",
    "404": "No such object in the active organisation (a foreign id is answered exactly like a missing one).",
    "415": "The request body's content type is not accepted here.",
    "429": "Too many requests; retry after the number of seconds in the Retry-After header.",
}


class ApiAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                error = OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code])
                responses[code] = self._get_response_for_code(error, code, direction=direction)
        return responses

    def _error_codes(self) -> list[str]:
        codes = []
        has_body = self.method in {"POST", "PUT", "PATCH"}
        # Query parameters declared with extend_schema (a serializer of them) are validated like a body.
        queried = any(_in_query(parameter) for parameter in self.get_override_parameters())
        if has_body or queried or self._get_filter_parameters() or self._get_pagination_parameters():
            codes.append("400")
        if any(self.get_auth()):  # an empty requirement ({}) marks an operation open to anyone
            codes += ["401", "403"]
        if "{" in self.path or self._get_pagination_parameters():
            codes.append("404")  # an unknown id, or a page past the last
        if has_body:
            codes.append("415")
        if self.view.get_throttles():
            codes.append("429")
        return codes


def _in_query(parameter) -> bool:
    """An extend_schema parameter read from the query string: a serializer of them, or one OpenApiParameter there."""
    return getattr(parameter, "location", "query") == "query"
