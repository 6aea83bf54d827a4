"""`manage.py verify_report FILE`: whether FILE is a report this installation issued, unaltered (exit 0) or not (1),
and what its signature answers to: the signer, its chain, its time-stamp and whether a configured root trusts it."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reports.verification import report_verify_file


class Command(BaseCommand):
    help = "Check that a PDF is a genuine, unaltered report of this installation. Exit status 0 if so, 1 if not."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options) -> None:
        try:
            with file.open("rb") as handle:
                verification = report_verify_file(handle)
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from error
        if not verification.genuine:
            self.stderr.write(f"{file}: {verification.message}")
            self._signature(verification, self.stderr)
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS(f"{file}: {verification.message}"))
        self.stdout.write(f"  report     {verification.report_id} ({verification.kind})")
        self.stdout.write(f"  case       {verification.case_id}")
        for evidence_id in verification.evidence_ids:
            self.stdout.write(f"  evidence   {evidence_id}")
        self.stdout.write(f"  generated  {verification.generated_at:%Y-%m-%d %H:%M:%S %Z}")
        self.stdout.write(f"  sha256     {verification.sha256}")
        self._signature(verification, self.stdout)

    def _signature(self, verification, out) -> None:
        facts = verification.signature
        if facts is None:
            return
        out.write(f"  signer     {facts.signer}")
        for name in facts.chain:
            out.write(f"  issued by  {name}")
        if facts.self_signed:
            out.write("  (the installation's self-signed demonstration certificate)")
        if facts.timestamp:
            configured = "a configured TSA" if facts.timestamp_trusted else "not a configured TSA"
            when = f"{facts.timestamp:%Y-%m-%d %H:%M:%S %Z}"
            out.write(f"  time-stamp {when} by {facts.timestamp_authority} ({configured})")
        else:
            out.write("  time-stamp none: the signing time is the signer's own claim")
        out.write(f"  level      PAdES {facts.level}")
        out.write(f"  trust      {facts.trust_sentence}")
