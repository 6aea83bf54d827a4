"""Re-run the forensic engine with the current rule set on every item of a case; earlier results are kept."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cases.models import Case
from forensics.services import analysis_queue
from forensics.tasks import analyse_evidence


class Command(BaseCommand):
    help = "Queue a new analysis of every item of a case whose media is still held (earlier analyses are kept)."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organisation slug.")
        parser.add_argument("--case", required=True, help="Case reference, e.g. EM-2026-00042.")
        parser.add_argument("--now", action="store_true", help="Run here and wait instead of queueing.")

    def handle(self, *args, org: str, case: str, now: bool, **options):
        found = Case.objects.filter(organisation__slug=org, reference=case).select_related("organisation").first()
        if found is None:
            raise CommandError(f"No case {case} in organisation {org!r}.")
        with transaction.atomic():
            analyses = [analysis_queue(item=item, reason="reanalysis") for item in found.evidence.media_held()]
        for analysis in analyses:
            outcome = analyse_evidence(analysis.pk) if now else "queued"
            self.stdout.write(f"{analysis.evidence.public_id}  {analysis.evidence.original_filename}  {outcome}")
        self.stdout.write(self.style.SUCCESS(f"{len(analyses)} item(s) of {found.reference} re-analysed."))
