"""django-axes refuses authenticate() without a request, and Django's test client's `login()` shortcut has none.
The test settings use this backend so that shortcut works; every log-in a test makes through a page, the admin, the
API or a browser still goes through axes' lock-out check exactly as in production."""

from axes.backends import AxesStandaloneBackend


class LockoutBackendAllowingTestClientLogin(AxesStandaloneBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None  # the test client's shortcut: no client and no request, so nothing to lock out
        return super().authenticate(request, username, password, **kwargs)
