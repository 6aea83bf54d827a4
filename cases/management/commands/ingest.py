"""`manage.py ingest`: bulk import of media files from disk into a case, through the same service as uploads.

Each file is spooled and hashed by `receive_path` and stored by `services.evidence_receive` in its own
transaction, so one refused file never undoes the others. Exit status 1 when anything was not ingested.
"""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cases import services
from cases.exceptions import Refused
from cases.models import Case, Membership, Organisation
from cases.roles import Role, Scope
from cases.upload import receive_path


class Command(BaseCommand):
    help = (
        "Import media files into a case. PATHs may be files or directories (recursed in sorted order; symbolic "
        "links are not followed). Prints one line per file; exits with status 1 if any file was not ingested."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", type=Path)
        parser.add_argument("--org", required=True, metavar="SLUG", help="The organisation's slug.")
        parser.add_argument("--case", required=True, metavar="REF", help="The case reference, e.g. EM-2025-00001.")
        parser.add_argument(
            "--actor",
            metavar="USERNAME",
            help="Member recorded as receiving the evidence; needs evidence:upload on the case. Default: the "
            "organisation's first administrator.",
        )
        parser.add_argument("--found-at", default="", help="Where the material was found (URL or platform).")
        parser.add_argument("--collected-by", default="", help="Who collected the material.")
        parser.add_argument("--collected-at", help="When it was collected (ISO 8601; UTC when no offset is given).")

    def handle(self, *args, paths: list[Path], org: str, case: str, actor: str | None, **options) -> None:
        organisation = Organisation.objects.filter(slug=org).first()
        if organisation is None:
            raise CommandError(f"No organisation with the slug {org!r}.")
        target = Case.objects.filter(organisation=organisation, reference=case).first()
        if target is None:
            raise CommandError(f"No case {case!r} in {organisation.name}.")
        membership = self._actor_membership(organisation, actor)
        if not membership.can(Scope.EVIDENCE_UPLOAD, target):
            raise CommandError(
                f"{membership.user} ({membership.get_role_display()}) may not upload evidence to {target.reference}."
            )
        acquisition = services.Acquisition(
            found_at=options["found_at"],
            collected_by=options["collected_by"],
            collected_at=_collected_at(options["collected_at"]),
        )

        stored = refused = 0
        for path, problem in _candidate_files(paths):
            if problem is None:
                problem = self._ingest_one(path, case=target, actor=membership.user, acquisition=acquisition)
            if problem is None:
                stored += 1
            else:
                refused += 1
                self.stderr.write(f"REFUSED {path}: {problem}")

        summary = f"{stored} stored, {refused} refused into {target.reference} by {membership.user}."
        if refused:
            raise CommandError(summary, returncode=1)
        self.stdout.write(self.style.SUCCESS(summary))

    def _actor_membership(self, organisation: Organisation, username: str | None) -> Membership:
        memberships = Membership.objects.filter(organisation=organisation).select_related("user")
        if username is None:
            first_admin = memberships.filter(role=Role.ADMIN, user__is_active=True).order_by("created_at", "id")
            if (membership := first_admin.first()) is None:
                raise CommandError(f"{organisation.name} has no administrator; name the receiving member with --actor.")
            return membership
        if not get_user_model().objects.filter(username=username).exists():
            raise CommandError(f"No user {username!r}.")
        membership = memberships.filter(user__username=username).first()
        if membership is None:
            raise CommandError(f"{username} is not a member of {organisation.name}.")
        if not membership.user.is_active:
            raise CommandError(f"{username} is deactivated.")
        return membership

    def _ingest_one(self, path: Path, *, case: Case, actor, acquisition: services.Acquisition) -> str | None:
        """Ingest one file and print its result line; return the refusal message instead when it was refused."""
        try:
            received = receive_path(path)
        except Refused as refusal:
            return refusal.message
        except OSError as error:
            return f"could not be read ({error.strerror or error})."
        try:
            receipt = services.evidence_receive(case=case, received=received, actor=actor, acquisition=acquisition)
        except Refused as refusal:
            return refusal.message
        item = receipt.item
        line = f"stored  {path}  evidence={item.public_id} sha256={item.sha256} type={item.detected_mime_type}"
        if receipt.duplicate_of is not None:
            line += f" duplicate-of={receipt.duplicate_of.public_id}"
        self.stdout.write(line)
        return None


def _candidate_files(paths: list[Path]) -> Iterator[tuple[Path, str | None]]:
    """Every regular file under `paths` in a stable order, or a reason why a path cannot be ingested.

    Nothing behind a symbolic link is read: following links would let a directory tree pull in files from
    anywhere the operator's account can read. FIFOs and devices are refused because opening one can block.
    """
    for root in paths:
        try:
            mode = os.lstat(root).st_mode
        except OSError as error:
            yield root, f"not found or not accessible ({error.strerror or error})."
            continue
        if stat.S_ISLNK(mode):
            yield root, "is a symbolic link; links are not followed. Name the target itself."
        elif stat.S_ISREG(mode):
            yield root, None
        elif stat.S_ISDIR(mode):
            yield from _directory_files(root)
        else:
            yield root, "is not a regular file."


def _directory_files(directory: Path) -> Iterator[tuple[Path, str | None]]:
    found: list[tuple[Path, str | None]] = []
    unreadable: list[OSError] = []
    for current, dirnames, filenames in os.walk(directory, followlinks=False, onerror=unreadable.append):
        dirnames.sort()
        for name in [*filenames, *(d for d in dirnames if os.path.islink(os.path.join(current, d)))]:
            path = Path(current, name)
            try:
                mode = os.lstat(path).st_mode
            except OSError as error:
                found.append((path, f"not accessible ({error.strerror or error})."))
                continue
            if stat.S_ISLNK(mode):
                found.append((path, "is a symbolic link; links are not followed."))
            elif stat.S_ISREG(mode):
                found.append((path, None))
            else:
                found.append((path, "is not a regular file."))
    for error in unreadable:
        found.append((Path(error.filename), f"directory could not be read ({error.strerror or error})."))
    yield from sorted(found, key=lambda entry: entry[0].parts)


def _collected_at(value: str | None):
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise CommandError(f"--collected-at {value!r} is not an ISO 8601 date and time, e.g. 2025-03-14T21:07:00Z.")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_current_timezone())
    return parsed
