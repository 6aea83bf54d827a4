"""Log-in with a limit on failed attempts per client address and per username.

The counters are shared by the log-in page and the API's token endpoint, so neither is a way around the other.
"""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.shortcuts import render


def login_failure_keys(*, address: str | None, username: str) -> list[str]:
    """The cache keys counting failed log-ins from this address and for this username."""
    return [f"login-failures:addr:{address or 'unknown'}", f"login-failures:user:{username.strip().lower()[:150]}"]


def login_failures_exceeded(keys: list[str]) -> bool:
    return any(cache.get(key, 0) >= settings.LOGIN_FAILURE_LIMIT for key in keys)


def login_failure_record(keys: list[str]) -> None:
    for key in keys:
        cache.add(key, 0, settings.LOGIN_FAILURE_WINDOW_SECONDS)
        cache.incr(key)


def _keys(request) -> list[str]:
    return login_failure_keys(address=request.META.get("REMOTE_ADDR"), username=request.POST.get("username", ""))


class RateLimitedLoginView(auth_views.LoginView):
    def post(self, request, *args, **kwargs):
        if login_failures_exceeded(_keys(request)):
            minutes = settings.LOGIN_FAILURE_WINDOW_SECONDS // 60
            return render(request, "registration/too_many_attempts.html", {"minutes": minutes}, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        login_failure_record(_keys(self.request))
        return super().form_invalid(form)
