"""`manage.py create_api_token`: issue an API token for a member of an organisation and show its secret once."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.models import Membership
from cases.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token acting in one organisation. The secret is printed once and never stored."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, metavar="USERNAME")
        parser.add_argument("--org", required=True, metavar="SLUG", help="The organisation requests will act in.")
        parser.add_argument("--name", required=True, help="What the token is for, e.g. 'ingest script on laptop 3'.")

    def handle(self, *args, user: str, org: str, name: str, **options) -> None:
        name = name.strip()
        if not name:
            raise CommandError("The token name is empty.")
        account = get_user_model().objects.filter(username=user).first()
        if account is None:
            raise CommandError(f"No user {user!r}.")
        if not account.is_active:
            raise CommandError(f"{user} is deactivated; a token for them would be refused anyway.")
        membership = Membership.objects.filter(user=account, organisation__slug=org).select_related("organisation")
        membership = membership.first()
        if membership is None:
            raise CommandError(f"{user} is not a member of an organisation with the slug {org!r}.")

        token, secret = api_token_create(user=account, name=name, organisation=membership.organisation)

        self.stdout.write(
            f"Created token {token.name!r} ({token.prefix}…) for {user} in {membership.organisation.name} "
            f"as {membership.get_role_display()}."
        )
        self.stdout.write(secret)
        self.stdout.write(
            self.style.WARNING(
                "Copy this secret now: only its hash is stored, so it cannot be shown again. "
                "Send it as the header 'Authorization: Token <secret>'."
            )
        )
