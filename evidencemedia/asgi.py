"""ASGI entry point for Evidence Media."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evidencemedia.settings.production")

application = get_asgi_application()
