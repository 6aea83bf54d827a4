"""Verify every organisation's custody chain (or one, with --org) and record that it was done; exit 1 if any is
broken, naming the first broken sequence number and what is wrong."""

from django.core.management.base import BaseCommand, CommandError

from cases.models import Organisation
from custody.timestamps import timestamp_summary
from custody.verification import custody_verification_run

# Enough to locate the damage; the rest is one verification away in the API and on the audit page.
PROBLEMS_SHOWN = 20


class Command(BaseCommand):
    help = (
        "Verify the custody ledgers: hashes, links, signatures, key ids, sequence gaps, checkpoints and their "
        "RFC 3161 time-stamps."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org", metavar="SLUG", help="Verify only this organisation's ledger.")

    def handle(self, *args, org: str | None = None, **options):
        organisations = Organisation.objects.order_by("slug")
        if org is not None:
            organisations = organisations.filter(slug=org)
            if not organisations.exists():
                raise CommandError(f"No organisation with the slug {org!r}.")
        broken = []
        for organisation in organisations:
            verification, _ = custody_verification_run(
                organisation=organisation, via="command", system="verify_custody"
            )
            summary = timestamp_summary(organisation)
            if verification.ok:
                self.stdout.write(self.style.SUCCESS(verification.summary()))
                self.stdout.write(f"  {summary}")
                continue
            broken.append(organisation.slug)
            self.stdout.write(self.style.ERROR(verification.summary()))
            self.stdout.write(f"  {summary}")
            problems = verification.report.problems
            for problem in problems[:PROBLEMS_SHOWN]:
                where = f"sequence {problem.sequence}" if problem.sequence is not None else "ledger"
                self.stdout.write(f"  {where}: {problem.label} — {problem.detail}")
            if len(problems) > PROBLEMS_SHOWN:
                self.stdout.write(f"  … and {len(problems) - PROBLEMS_SHOWN} more problems")
        if broken:
            raise CommandError(f"Custody ledger broken in: {', '.join(broken)}", returncode=1)
