"""Create the custody signing key (first run) or rotate it (--rotate); old public keys stay for verification."""

from django.core.management.base import BaseCommand

from custody.keys import key_generate, keys_directory


class Command(BaseCommand):
    help = "Create the custody signing key under the data directory if there is none; --rotate makes a new one."

    def add_arguments(self, parser):
        parser.add_argument("--rotate", action="store_true", help="Retire the active key and start a new one.")

    def handle(self, *args, rotate: bool = False, **options):
        if (keys_directory() / "active").exists() and not rotate:
            self.stdout.write(f"Custody signing key present in {keys_directory()}; nothing to do.")
            return
        key_id = key_generate()
        self.stdout.write(self.style.SUCCESS(f"Custody signing key {key_id} is now active."))
