"""Storage encryption keys: create the master key, rotate an organisation's key or the master key, show the state."""

from django.core.management.base import BaseCommand, CommandError

from cases.models import Organisation
from encryption.hierarchy import master_key_ensure, master_key_rotate, organisation_key_rotate
from encryption.master import master_keyring
from encryption.models import DataKey, OrganisationKey


class Command(BaseCommand):
    help = "Storage encryption keys: init (master key, first run), rotate --org SLUG, rotate-master, status."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        commands.add_parser("init", help="Create the master key in the keys directory if there is none.")
        rotate = commands.add_parser(
            "rotate", help="Re-wrap every data key of an organisation under a new organisation key (media untouched)."
        )
        rotate.add_argument("--org", required=True, metavar="SLUG")
        commands.add_parser(
            "rotate-master", help="Re-wrap every organisation key under a new master key and retire the old one."
        )
        commands.add_parser("status", help="Master key, and each organisation's key and data keys.")

    def handle(self, *args, action: str, **options):
        if action == "init":
            present = master_keyring().present()
            key_id = master_key_ensure()
            said = "present; nothing to do" if present else "created"
            self.stdout.write(f"Storage master key {key_id} {said}. Back up the keys directory now.")
        elif action == "rotate":
            organisation = Organisation.objects.filter(slug=options["org"]).first()
            if organisation is None:
                raise CommandError(f"No organisation with the slug {options['org']!r}.")
            if not OrganisationKey.objects.filter(organisation=organisation).exists():
                raise CommandError(f"{organisation.slug} has stored nothing yet, so it has no key to rotate.")
            count = organisation_key_rotate(organisation.pk)
            self.stdout.write(
                self.style.SUCCESS(f"{organisation.slug}: new organisation key; {count} data keys re-wrapped.")
            )
        elif action == "rotate-master":
            key_id, count = master_key_rotate()
            self.stdout.write(
                self.style.SUCCESS(
                    f"Master key {key_id} is now active; {count} organisation keys re-wrapped, old master keys "
                    "retired. Back up the keys directory now."
                )
            )
        else:
            keyring = master_keyring()
            active = keyring.active_key_id() if keyring.present() else "none"
            self.stdout.write(f"master key: {active} (held: {', '.join(keyring.key_ids()) or 'none'})")
            for key in OrganisationKey.objects.filter(active=True).select_related("organisation"):
                rows = DataKey.objects.filter(organisation=key.organisation)
                self.stdout.write(
                    f"{key.organisation.slug}: key {key.key_id} (under master {key.master_key_id}), "
                    f"{rows.filter(wrapped_key__isnull=False).count()} data keys, "
                    f"{rows.filter(wrapped_key__isnull=True).count()} destroyed"
                )
