from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class CustodyConfig(AppConfig):
    name = "custody"
    verbose_name = gettext_lazy("Chain of custody")
