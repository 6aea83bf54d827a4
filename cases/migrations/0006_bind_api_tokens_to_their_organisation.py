"""Bind every API token to the organisation it acts in today.

Before, a token without an organisation, or naming one its owner has left, acted in its owner's first membership by
organisation name, so a new membership could move it. Forwards binds each such token to that organisation (or to
none when its owner belongs nowhere); backwards unbinds the tokens bound to where that old resolution would make
them act anyway, which the code before this migration treats exactly alike."""

from django.db import migrations


def _first_by_name(Membership, user_id):
    return Membership.objects.filter(user_id=user_id).order_by("organisation__name", "id").first()


def api_tokens_bind(apps, schema_editor):
    ApiToken = apps.get_model("cases", "ApiToken")
    Membership = apps.get_model("cases", "Membership")
    for token in ApiToken.objects.all():
        if Membership.objects.filter(user_id=token.user_id, organisation_id=token.organisation_id).exists():
            continue
        first = _first_by_name(Membership, token.user_id)
        token.organisation_id = first.organisation_id if first else None
        token.save(update_fields=["organisation"])


def api_tokens_unbind(apps, schema_editor):
    ApiToken = apps.get_model("cases", "ApiToken")
    Membership = apps.get_model("cases", "Membership")
    for token in ApiToken.objects.exclude(organisation=None):
        first = _first_by_name(Membership, token.user_id)
        if first is not None and first.organisation_id == token.organisation_id:
            token.organisation_id = None
            token.save(update_fields=["organisation"])


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_invitations")]

    operations = [migrations.RunPython(api_tokens_bind, api_tokens_unbind)]
