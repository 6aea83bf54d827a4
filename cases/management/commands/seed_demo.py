"""`manage.py seed_demo`: idempotent demo data (a legal-aid organisation and a police unit, one user per role, a
staff login for the Django admin, cases, generated evidence).

Passwords, and the authenticator keys of the two demo accounts that need a second factor (the staff login, and
demo-investigator, who belongs to the police unit, which requires one), are generated once and kept in
`<DATA_DIR>/demo-logins.txt` (mode 0600), so every run, and every `make run`, prints logins that work. Evidence
goes through the same services as an upload.
"""

import os
import secrets
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases import services
from cases.accounts import two_factor_enable
from cases.demo_media import DemoMedia, demo_media_create
from cases.models import AnalysisStatus, Case, Membership, Organisation, OrganisationKind
from cases.roles import Role
from cases.two_factor import TOTP_DIGITS, TOTP_STEP, new_totp_key, totp_secret_text
from cases.upload import receive_path
from forensics.models import Analysis
from forensics.tasks import analyse_evidence
from reports.models import Report, ReportStatus
from reports.services import report_request
from reports.tasks import report_generate

# `make run` passes the address it serves on; the default is runserver's.
DEMO_URL = os.environ.get("EVIDENCEMEDIA_DEMO_URL", "http://127.0.0.1:8000/")
LOGINS_FILENAME = "demo-logins.txt"
DEMO_USERS = {
    "demo-admin": Role.ADMIN,
    "demo-supervisor": Role.SUPERVISOR,
    "demo-investigator": Role.INVESTIGATOR,
    "demo-auditor": Role.AUDITOR,
}
STAFF_USER = "demo-staff"  # a superuser for the Django admin, in no organisation
LOGIN_NAMES = (*DEMO_USERS, STAFF_USER)
# Staff must sign in with a second factor; so must members of the police unit (its kind's policy).
TWO_FACTOR_USERS = (STAFF_USER, "demo-investigator")
LEGAL_AID = ("Demo Legal Aid", "demo", OrganisationKind.LEGAL_AID)
POLICE = ("Demo Police Unit", "demo-police", OrganisationKind.LAW_ENFORCEMENT)


@dataclass(frozen=True)
class DemoCase:
    title: str
    description: str
    creator: str
    assignees: tuple[str, ...] = ()
    # Keys into demo_media_create's result, ingested in this order by `receiver`.
    media: tuple[str, ...] = ()
    receiver: str = ""
    acquisition: services.Acquisition = services.Acquisition()


LEGAL_AID_CASES = (
    DemoCase(
        title="Manipulated photos posted on a social network (demo)",
        description="Demo data. A client reports altered photos of her posted by an anonymous account.",
        creator="demo-investigator",
        assignees=("demo-investigator",),
        media=("camera", "edited", "stripped", "generated"),
        receiver="demo-investigator",
        acquisition=services.Acquisition(
            found_at="https://social.example/demo-account/posts/1042",
            collected_by="demo-investigator",
            collected_at=datetime(2024, 3, 16, 12, 30, tzinfo=UTC),
        ),
    ),
    DemoCase(
        title="Synthetic video sent to the client's employer (demo)",
        description="Demo data. A short video, and the original photo it appears to be built from.",
        creator="demo-supervisor",
        # The camera photo again, so the demo shows a duplicate detected across cases.
        media=("video", "camera"),
        receiver="demo-supervisor",
        acquisition=services.Acquisition(found_at="E-mail forwarded by the employer (demo)"),
    ),
)
POLICE_CASES = (
    DemoCase(
        title="Referral from Demo Legal Aid (demo)",
        description="Demo data. Lets demo-investigator try the organisation switcher.",
        creator="demo-investigator",
    ),
)


class Command(BaseCommand):
    help = f"Create the demo organisations, users, cases and evidence if missing, then print {DEMO_URL} and logins."

    def handle(self, *args, **options) -> None:
        logins_path = Path(settings.DATA_DIR) / LOGINS_FILENAME
        logins, regenerated = demo_logins(logins_path)
        passwords = {name: login.password for name, login in logins.items()}
        created: list[str] = []

        with transaction.atomic():
            users = {name: self._user(name, passwords[name], regenerated, created) for name in LOGIN_NAMES}
            legal_aid = self._organisation(*LEGAL_AID, created)
            for username, role in DEMO_USERS.items():
                self._membership(legal_aid, users[username], role, created)
            police = self._organisation(*POLICE, created)
            self._membership(police, users["demo-investigator"], Role.INVESTIGATOR, created)
            for username in TWO_FACTOR_USERS:
                self._authenticator(users[username], logins[username].totp_key, regenerated, created)
            cases = [
                (self._case(organisation, plan, users, created), plan)
                for organisation, plans in ((legal_aid, LEGAL_AID_CASES), (police, POLICE_CASES))
                for plan in plans
            ]

        with ExitStack() as cleanup:
            media: dict[str, DemoMedia] | None = None
            for case, plan in cases:
                if not plan.media or case.evidence.exists():
                    continue
                if media is None:
                    media = demo_media_create(Path(cleanup.enter_context(tempfile.TemporaryDirectory())))
                # All of a case's items or none, so a failed run is simply repeated by the next one.
                with transaction.atomic():
                    for key in plan.media:
                        services.evidence_receive(
                            case=case,
                            received=receive_path(media[key].path),
                            actor=users[plan.receiver],
                            acquisition=plan.acquisition,
                        )
                created.append(f"{len(plan.media)} evidence items in {case.reference}")

        for case, plan in cases:
            if plan.media:
                self._item_reports(case, users[plan.receiver], created)
        self._report(created, logins, logins_path)

    def _item_reports(self, case: Case, actor, created: list[str]) -> None:
        """A signed report for every demo item that has none, analysing it here first if the cluster has not.

        The task cluster starts after seed_demo (scripts/run.sh); the tasks it then finds queued are no-ops,
        because both tasks skip work that is already finished.
        """
        generated = 0
        for item in case.evidence.order_by("received_at", "id"):
            for analysis in Analysis.objects.filter(evidence=item, status=AnalysisStatus.QUEUED):
                analyse_evidence(analysis.pk)
            if Report.objects.filter(evidence=item).exclude(status=ReportStatus.FAILED).exists():
                continue
            item.refresh_from_db()
            report_generate(report_request(actor=actor, case=case, evidence=item).pk)
            generated += 1
        if generated:
            created.append(f"{generated} signed reports in {case.reference}")

    def _user(self, username: str, password: str, regenerated: set[str], created: list[str]):
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            created.append(f"user {username}")
            if username == STAFF_USER:
                return User.objects.create_superuser(username=username, password=password)
            return User.objects.create_user(username=username, password=password)
        if username in regenerated:
            # The logins file was lost: give the existing account the newly printed password so it works.
            user.set_password(password)
            user.save(update_fields=["password"])
        return user

    def _organisation(self, name: str, slug: str, kind: OrganisationKind, created: list[str]) -> Organisation:
        organisation = Organisation.objects.filter(slug=slug).first()
        if organisation is None:
            # With the retention and two-factor policies its kind starts with.
            organisation = services.organisation_create(name=name, slug=slug, kind=kind)
            created.append(f"organisation {name}")
        elif organisation.kind != kind:
            # Data directories seeded before the demo had two kinds hold "Demo Legal Aid" as law enforcement.
            organisation = services.organisation_kind_correct(organisation=organisation, kind=kind)
            created.append(f"{name} corrected to {kind.label.lower()}, with that kind's policies")
        return organisation

    def _authenticator(self, user, key_hex: str, regenerated: set[str], created: list[str]) -> None:
        """Enrol the key kept in the logins file, as the set-up page would with a code from an app holding it."""
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists() and user.username not in regenerated:
            return
        two_factor_enable(user=user, key_hex=key_hex, code=totp_code(key_hex))
        created.append(f"an authenticator for {user.username}")

    def _membership(self, organisation: Organisation, user, role: Role, created: list[str]) -> None:
        # Only when missing: each call is a custody event, and a role changed while trying the demo should stay.
        if not Membership.objects.filter(organisation=organisation, user=user).exists():
            services.membership_set(organisation=organisation, user=user, role=role)
            created.append(f"{user} as {role.label.lower()} in {organisation.name}")

    def _case(self, organisation: Organisation, plan: DemoCase, users: dict, created: list[str]) -> Case:
        case = Case.objects.filter(organisation=organisation, title=plan.title).first()
        if case is None:
            case = services.case_create(
                organisation=organisation, title=plan.title, description=plan.description, actor=users[plan.creator]
            )
            created.append(f"case {case.reference} in {organisation.name}")
            # Only on creation: a later run must not undo assignments made while trying the demo.
            if plan.assignees:
                assignees = [users[username] for username in plan.assignees]
                services.case_assign(case=case, investigators=assignees, actor=users["demo-supervisor"])
        return case

    def _report(self, created: list[str], logins: dict[str, "DemoLogin"], logins_path: Path) -> None:
        if created:
            self.stdout.write(self.style.SUCCESS("Demo data created: " + "; ".join(created) + "."))
        else:
            self.stdout.write("Demo data already present; nothing created.")
        self.stdout.write("")
        self.stdout.write(f"Open {DEMO_URL} and sign in with one of these demo logins:")
        self.stdout.write("")
        self.stdout.write(f"  {'username':<20}{'password':<28}role in {LEGAL_AID[0]}")
        for username, role in DEMO_USERS.items():
            self.stdout.write(f"  {username:<20}{logins[username].password:<28}{role.label}")
        self.stdout.write("")
        self.stdout.write(f"demo-investigator is also an investigator in {POLICE[0]} (see the organisation switcher).")
        self.stdout.write("")
        self.stdout.write(f"Django admin ({DEMO_URL}admin/), staff login:")
        self.stdout.write(f"  {STAFF_USER:<20}{logins[STAFF_USER].password:<28}staff (superuser, in no organisation)")
        self.stdout.write("")
        self.stdout.write(
            f"{' and '.join(TWO_FACTOR_USERS)} sign in with a second factor ({POLICE[0]} requires one, and staff"
        )
        self.stdout.write("always do). Add these keys to an authenticator app (time-based, 6 digits, 30 s):")
        for username in TWO_FACTOR_USERS:
            self.stdout.write(f"  {username:<20}{totp_secret_text(logins[username].totp_key)}")
        self.stdout.write(f"These logins are kept in {logins_path} (readable only by its owner).")


@dataclass(frozen=True)
class DemoLogin:
    password: str
    totp_key: str = ""  # hex, for the accounts in TWO_FACTOR_USERS


def demo_logins(path: Path) -> tuple[dict[str, DemoLogin], set[str]]:
    """The demo logins from the logins file, generating (and saving) any that are missing or incomplete.

    Returns the logins and the usernames whose login was generated by this call.
    """
    logins: dict[str, DemoLogin] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 2 and fields[0] in LOGIN_NAMES:
                logins[fields[0]] = DemoLogin(fields[1], fields[3] if len(fields) >= 4 else "")
    generated = {
        username
        for username in LOGIN_NAMES
        if username not in logins or (username in TWO_FACTOR_USERS and not logins[username].totp_key)
    }
    for username in generated:
        key = new_totp_key() if username in TWO_FACTOR_USERS else ""
        logins[username] = DemoLogin(secrets.token_urlsafe(15), key)
    if generated:
        _logins_write(path, logins)
    else:
        # Tighten a file someone copied or restored with looser permissions.
        path.chmod(0o600)
    return logins, generated


def _logins_write(path: Path, logins: dict[str, DemoLogin]) -> None:
    roles = {**{username: role.value for username, role in DEMO_USERS.items()}, STAFF_USER: "staff"}
    lines = [
        "# Evidence Media demo logins, generated once by `manage.py seed_demo`. Demo data only.",
        f"# Sign in at {DEMO_URL}; the last column is the authenticator key (hex) of accounts with a second factor.",
        f"{'username':<20}{'password':<28}{'role':<14}authenticator key",
        *(
            f"{username:<20}{logins[username].password:<28}{roles[username]:<14}{logins[username].totp_key}".rstrip()
            for username in LOGIN_NAMES
        ),
    ]
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # Created 0600 from the start, so the passwords are never readable by others, not even briefly.
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    os.replace(partial, path)


def totp_code(key_hex: str) -> str:
    """The code an authenticator app holding `key_hex` shows now."""
    return f"{totp(bytes.fromhex(key_hex), step=TOTP_STEP, digits=TOTP_DIGITS):0{TOTP_DIGITS}d}"
