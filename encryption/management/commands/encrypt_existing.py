"""Encrypt the files stored before encryption at rest was turned on; resumable, verifies before removing."""

from django.core.management.base import BaseCommand, CommandError

from encryption.existing import encrypt_existing


class Command(BaseCommand):
    help = (
        "Encrypt every stored file that has no data key yet (evidence, reports; previews are removed and remade). "
        "Each file is verified against its recorded SHA-256 before and after, and its plaintext removed only then. "
        "Safe to interrupt and run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, help="Stop after this many files (run again to continue).")

    def handle(self, *args, limit: int | None = None, **options):
        counts: dict[str, int] = {}
        for outcome in encrypt_existing(limit=limit):
            counts[outcome.result] = counts.get(outcome.result, 0) + 1
            self.stdout.write(f"{outcome.result}: {outcome.store}:{outcome.name} {outcome.detail}".rstrip())
        summary = ", ".join(f"{count} {result}" for result, count in sorted(counts.items())) or "nothing to do"
        self.stdout.write(f"encrypt_existing: {summary}")
        if counts.get("failed"):
            raise CommandError("Some files failed verification and were left as they are; see above.", returncode=1)
