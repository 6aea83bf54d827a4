"""`manage.py check_fixity`: re-hash every stored media file and report now, record each check in the ledger, and
exit 1 when any file is missing or no longer matches its recorded SHA-256 (each raised as an integrity alarm)."""

from django.core.management.base import BaseCommand, CommandError

from custody.fixity import fixity_run


class Command(BaseCommand):
    help = "Re-hash every stored evidence file and report PDF against its recorded SHA-256 (exit 1 on any failure)."

    def handle(self, *args, **options) -> None:
        run = fixity_run(share=1.0, system="check_fixity command")
        for outcome in run.failures:
            self.stdout.write(self.style.ERROR(f"FAILED {outcome.file.store}:{outcome.file.key}: {outcome.finding}"))
        summary = f"{len(run.outcomes)} of {run.total_files} stored files checked, {len(run.failures)} failed"
        if run.failures:
            raise CommandError(f"{summary}; integrity alarms raised.", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"{summary}: all intact."))
