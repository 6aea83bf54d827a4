"""`manage.py rules [--markdown]`: print the forensic rule catalogue; the Markdown form is docs/rules.md."""

from django.core.management.base import BaseCommand, CommandParser

from forensics.rules.documentation import catalogue_lines, catalogue_markdown


class Command(BaseCommand):
    help = "Print the forensic rule catalogue (ids, severities, titles), or with --markdown the text of docs/rules.md."
    # Printing the catalogue needs neither the database nor URL and model checks.
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--markdown", action="store_true", help="Print the full catalogue as Markdown (docs/rules.md)."
        )

    def handle(self, *args, markdown: bool, **options) -> None:
        if markdown:
            self.stdout.write(catalogue_markdown(), ending="")
            return
        for line in catalogue_lines():
            self.stdout.write(line)
