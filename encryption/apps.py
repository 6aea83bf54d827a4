from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class EncryptionConfig(AppConfig):
    name = "encryption"
    verbose_name = gettext_lazy("Encryption at rest")

    def ready(self) -> None:
        from django_q.signals import post_spawn
        from tink import aead, streaming_aead

        from .plaintext import plaintext_sweep_on_spawn

        # Tink's primitives are registered in a process-wide registry; registering twice is harmless.
        aead.register()
        streaming_aead.register()
        post_spawn.connect(plaintext_sweep_on_spawn, dispatch_uid="encryption.plaintext_sweep")
