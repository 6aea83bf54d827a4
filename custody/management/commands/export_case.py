"""`manage.py export_case --org SLUG --case REF [--item ID] OUT.zip`: write a sealed export of a case (or one of
its items) for `python -m custody.verify_export`, recorded in the ledger as `export.created`."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.exceptions import Refused
from cases.models import Case, EvidenceItem
from custody.exports import export_create


class Command(BaseCommand):
    help = "Export a case, or one evidence item, as a signed zip that can be verified without the server."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", metavar="SLUG", required=True, help="The organisation's slug.")
        parser.add_argument("--case", metavar="REF", required=True, help="The case reference, e.g. EM-2026-00001.")
        parser.add_argument("--item", metavar="ID", help="Export only this evidence item (its evidence ID).")
        parser.add_argument("out", type=Path, help="The zip file to write; it must not exist yet.")

    def handle(self, *args, org: str, case: str, item: str | None, out: Path, **options) -> None:
        found = Case.objects.select_related("organisation").filter(organisation__slug=org, reference=case).first()
        if found is None:
            raise CommandError(f"No case {case!r} in an organisation with the slug {org!r}.")
        evidence = None
        if item is not None:
            try:
                evidence = EvidenceItem.objects.filter(case=found, public_id=item).first()
            except ValidationError:
                evidence = None
            if evidence is None:
                raise CommandError(f"Case {case} has no evidence item {item!r}.")
        try:
            with out.open("xb") as destination:
                sealed = export_create(case=found, item=evidence, destination=destination, system="export_case command")
        except FileExistsError:
            raise CommandError(f"{out} already exists; choose another file name.") from None
        except Refused as refusal:
            out.unlink(missing_ok=True)
            raise CommandError(refusal.message) from refusal
        files = len(sealed.manifest["files"])
        self.stdout.write(self.style.SUCCESS(f"Wrote {out}: {files} files, manifest SHA-256 {sealed.manifest_sha256}."))
        self.stdout.write(f"Recorded as custody ledger entry {sealed.event.sequence}.")
        self.stdout.write(f"Verify it anywhere with: python -m custody.verify_export {out.name}")
