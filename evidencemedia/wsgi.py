"""WSGI entry point for Evidence Media."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evidencemedia.settings.production")

application = get_wsgi_application()
