"""Log-in with a limit on failed attempts per client address and per username."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.shortcuts import render


def _keys(request) -> list[str]:
    username = request.POST.get("username", "").strip().lower()[:150]
    address = request.META.get("REMOTE_ADDR", "unknown")
    return [f"login-failures:addr:{address}", f"login-failures:user:{username}"]


class RateLimitedLoginView(auth_views.LoginView):
    def post(self, request, *args, **kwargs):
        if any(cache.get(key, 0) >= settings.LOGIN_FAILURE_LIMIT for key in _keys(request)):
            minutes = settings.LOGIN_FAILURE_WINDOW_SECONDS // 60
            return render(request, "registration/too_many_attempts.html", {"minutes": minutes}, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        for key in _keys(self.request):
            cache.add(key, 0, settings.LOGIN_FAILURE_WINDOW_SECONDS)
            cache.incr(key)
        return super().form_invalid(form)
