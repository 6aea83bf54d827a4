"""Rate limits for the expensive or abusable API requests."""

from rest_framework.throttling import UserRateThrottle


class UploadRateThrottle(UserRateThrottle):
    """Counts evidence uploads per user; reading is not limited."""

    scope = "upload"

    def allow_request(self, request, view) -> bool:
        return request.method != "POST" or super().allow_request(request, view)
