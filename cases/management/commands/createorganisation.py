"""`manage.py createorganisation`: create an organisation (tenant), optionally with its first administrator."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction

from cases import services
from cases.models import Organisation, OrganisationKind
from cases.roles import Role


class Command(BaseCommand):
    help = "Create an organisation; with --admin, also create (or reuse) a user as its administrator."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Display name, e.g. 'North Legal Aid'.")
        parser.add_argument("--slug", required=True, help="Short unique identifier used in URLs and commands.")
        parser.add_argument(
            "--kind",
            choices=OrganisationKind.values,
            default=OrganisationKind.LAW_ENFORCEMENT,
            help="law_enforcement (media kept until deleted by hand) or legal_aid (privacy-first retention: media "
            "deleted once analysis and report are done). Default: law_enforcement. The administrator can change "
            "the policy later.",
        )
        parser.add_argument("--admin", metavar="USERNAME", help="Make this user the organisation's administrator.")
        parser.add_argument(
            "--password", help="Password for a new --admin user; a random one is generated and printed if omitted."
        )

    def handle(
        self, *args, name: str, slug: str, kind: str, admin: str | None, password: str | None, **options
    ) -> None:
        name = name.strip()
        if not name:
            raise CommandError("The organisation name is empty.")
        try:
            validate_slug(slug)
        except ValidationError as error:
            raise CommandError(f"Invalid slug {slug!r}: {' '.join(error.messages)}") from error
        if Organisation.objects.filter(slug=slug).exists():
            raise CommandError(f"An organisation with the slug {slug!r} already exists; choose another slug.")
        # Names are not unique in the schema, but two tenants called the same would be indistinguishable in the
        # organisation switcher.
        if Organisation.objects.filter(name__iexact=name).exists():
            raise CommandError(f"An organisation named {name!r} already exists.")
        if password is not None and admin is None:
            raise CommandError("--password only applies together with --admin.")

        generated = None
        try:
            with transaction.atomic():
                organisation = services.organisation_create(name=name, slug=slug, kind=OrganisationKind(kind))
                if admin is not None:
                    generated = self._admin_set(organisation, username=admin, password=password)
        except IntegrityError as error:
            # A concurrent run took the slug between the check and the insert.
            raise CommandError(f"Could not create {name!r}: {error}") from error

        self.stdout.write(self.style.SUCCESS(f"Created organisation {organisation.name} (slug {organisation.slug})."))
        two_factor = "required" if organisation.two_factor_required else "optional"
        self.stdout.write(
            f"Kind: {organisation.get_kind_display()}; retention: {organisation.retention_summary}; "
            f"two-factor sign-in: {two_factor}."
        )
        if admin is not None:
            self.stdout.write(f"Administrator: {admin}")
        if generated is not None:
            self.stdout.write(f"Generated password for {admin}: {generated}")
            self.stdout.write(self.style.WARNING("Store it now; it is not kept anywhere and cannot be shown again."))

    def _admin_set(self, organisation: Organisation, *, username: str, password: str | None) -> str | None:
        """Create or reuse the user and make them administrator; return the password only if it was generated."""
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        generated = None
        if user is not None:
            # Changing an existing account's password from here would silently lock its owner out.
            if password is not None:
                raise CommandError(f"User {username!r} already exists; omit --password to make them administrator.")
        else:
            if password is None:
                password = generated = secrets.token_urlsafe(18)
            candidate = User(username=username)
            try:
                User._meta.get_field(User.USERNAME_FIELD).run_validators(username)
            except ValidationError as error:
                raise CommandError(f"Username refused: {' '.join(error.messages)}") from error
            try:
                validate_password(password, candidate)
            except ValidationError as error:
                raise CommandError(f"Password refused: {' '.join(error.messages)}") from error
            user = User.objects.create_user(username=username, password=password)
        services.membership_set(organisation=organisation, user=user, role=Role.ADMIN)
        return generated
