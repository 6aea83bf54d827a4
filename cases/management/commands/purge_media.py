"""`manage.py purge_media [--dry-run] [--org SLUG]`: show, and unless --dry-run apply, what each organisation's
retention policy deletes now; the same selection the scheduled job applies."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.models import Organisation
from cases.retention import retention_apply, retention_due


class Command(BaseCommand):
    help = "Delete stored media that the organisations' retention policies say is due (see --dry-run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only list what would be deleted.")
        parser.add_argument("--org", metavar="SLUG", help="Only this organisation.")

    def handle(self, *args, dry_run: bool, org: str | None, **options) -> None:
        organisations = Organisation.objects.order_by("slug")
        if org is not None:
            organisations = organisations.filter(slug=org)
            if not organisations.exists():
                raise CommandError(f"No organisation with the slug {org!r}.")
        total = 0
        for organisation in organisations:
            due = retention_due(organisation)
            self.stdout.write(f"{organisation.slug}: {organisation.retention_summary}; {len(due)} item(s) due")
            for entry in due:
                item = entry.item
                self.stdout.write(f"  {item.case.reference} {item.public_id} sha256 {item.sha256}: {entry.reason}")
            if not dry_run and due:
                deleted = retention_apply(organisation, system="purge_media command")
                self.stdout.write(self.style.SUCCESS(f"  deleted the media of {len(deleted)} item(s)"))
                total += len(deleted)
            else:
                total += len(due)
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(f"{verb} the media of {total} item(s) in all")
