"""WSGI entry point for Evidence Media."""

import gc
import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evidencemedia.settings.production")

application = get_wsgi_application()

# Load every view now (the URLconf imports them, and they the analysers and the PDF libraries), then take all that
# was loaded out of the garbage collector's generations: otherwise each full collection walks these 200,000-odd
# long-lived objects, and the request that triggers it (one in a dozen pages) waits some 200 ms for it.
import_module(settings.ROOT_URLCONF)
gc.freeze()
