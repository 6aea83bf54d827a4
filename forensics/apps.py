from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class ForensicsConfig(AppConfig):
    name = "forensics"
    verbose_name = gettext_lazy("Forensic analysis")
