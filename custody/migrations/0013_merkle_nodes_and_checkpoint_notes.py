"""Witnessed history and the stored ledger tree: the perfect subtree hashes, stored as entries are appended
(append-only, filled here for the ledgers that predate the store); the C2SP signed-note form of each new
checkpoint; the witnesses an organisation names and their cosignatures (append-only); two new actions."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from custody import merkle
from custody.triggers import triggers_install, triggers_remove

TABLES = ("custody_merklenode", "custody_checkpointcosignature")
ACTIONS = [
    ("case.created", "Case created"),
    ("case.updated", "Case updated"),
    ("case.assigned", "Investigators assigned"),
    ("case.status_changed", "Case status changed"),
    ("case.closed", "Case closed"),
    ("note.added", "Note added"),
    ("evidence.received", "Evidence received"),
    ("evidence.viewed", "Evidence metadata viewed"),
    ("media.viewed", "Media viewed"),
    ("media.downloaded", "Media downloaded"),
    ("integrity.alarm", "Integrity alarm"),
    ("evidence.transferred", "Evidence transferred to another case"),
    ("media.deleted", "Media deleted"),
    ("analysis.queued", "Analysis queued"),
    ("analysis.started", "Analysis started"),
    ("analysis.completed", "Analysis completed"),
    ("analysis.failed", "Analysis failed"),
    ("report.generated", "Report generated"),
    ("report.downloaded", "Report downloaded"),
    ("checkpoint.made", "Checkpoint made"),
    ("checkpoint.cosigned", "Checkpoint cosigned by a witness"),
    ("witness.added", "Witness named"),
    ("custody.verified", "Custody verified"),
    ("review.signed_off", "Supervisor review signed off"),
    ("member.changed", "Membership changed"),
    ("retention.changed", "Retention policy changed"),
    ("legal_hold.set", "Legal hold placed"),
    ("legal_hold.released", "Legal hold lifted"),
    ("fixity.checked", "Stored file re-hashed (fixity check)"),
    ("export.created", "Sealed export created"),
    ("organisation.created", "Organisation created"),
    ("invitation.sent", "Invitation sent"),
    ("invitation.accepted", "Invitation accepted"),
    ("invitation.declined", "Invitation declined"),
    ("invitation.revoked", "Invitation revoked"),
    ("account.created", "Account created"),
    ("api_token.created", "API token created"),
    ("api_token.activated", "API token switched to this organisation"),
    ("api_token.revoked", "API token revoked"),
    ("account.signed_in", "Signed in"),
    ("account.sign_in_failed", "Sign-in refused: wrong password"),
    ("account.deactivated", "Account deactivated"),
    ("account.reactivated", "Account reactivated"),
    ("account.password_changed", "Password changed"),
    ("account.password_reset_sent", "Password reset e-mail sent"),
    ("two_factor.enabled", "Two-factor authentication turned on"),
    ("two_factor.disabled", "Two-factor authentication turned off"),
    ("two_factor.codes_renewed", "Two-factor recovery codes renewed"),
    ("two_factor.failed", "Two-factor code refused"),
    ("two_factor.recovery_used", "Signed in with a recovery code"),
    ("two_factor.policy_changed", "Two-factor requirement changed"),
]


def nodes_fill(apps, schema_editor):
    event_model = apps.get_model("custody", "CustodyEvent")
    node_model = apps.get_model("custody", "MerkleNode")
    for organisation_id in event_model.objects.values_list("organisation_id", flat=True).distinct():
        hashes = (
            event_model.objects.filter(organisation_id=organisation_id)
            .order_by("sequence")
            .values_list("entry_hash", flat=True)
        )
        leaves = (merkle.leaf_hash(bytes.fromhex(value)) for value in hashes.iterator())
        node_model.objects.bulk_create(
            (
                node_model(organisation_id=organisation_id, level=node.level, position=node.index, hash=value)
                for node, value in merkle.tree_nodes(leaves)
            ),
            batch_size=5000,
        )


def install(apps, schema_editor):
    triggers_install(schema_editor.connection, TABLES)


def remove(apps, schema_editor):
    triggers_remove(schema_editor.connection, TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial_domain"),
        ("custody", "0012_checkpoint_timestamps"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="checkpoint",
            name="note",
            field=models.TextField(blank=True, null=True),
        ),
        migrations.CreateModel(
            name="MerkleNode",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "organisation",
                        "level",
                        "position",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("level", models.PositiveSmallIntegerField()),
                ("position", models.PositiveBigIntegerField()),
                ("hash", models.BinaryField(max_length=32)),
                (
                    "organisation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="cases.organisation"
                    ),
                ),
            ],
        ),
        migrations.AlterField(
            model_name="custodyevent",
            name="action",
            field=models.CharField(choices=ACTIONS, max_length=40),
        ),
        migrations.CreateModel(
            name="Witness",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200)),
                ("public_key", models.BinaryField(max_length=32)),
                ("added_at", models.DateTimeField()),
                (
                    "added_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "organisation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="cases.organisation"
                    ),
                ),
            ],
            options={"ordering": ["organisation", "name"]},
        ),
        migrations.CreateModel(
            name="CheckpointCosignature",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("signed_at", models.DateTimeField(help_text="The time the witness put in its cosignature.")),
                ("line", models.TextField()),
                (
                    "checkpoint",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cosignatures",
                        to="custody.checkpoint",
                    ),
                ),
                (
                    "witness",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="custody.witness"
                    ),
                ),
            ],
            options={"ordering": ["checkpoint", "signed_at"]},
        ),
        migrations.AddConstraint(
            model_name="witness",
            constraint=models.UniqueConstraint(fields=("organisation", "name"), name="one_witness_per_name"),
        ),
        migrations.AddConstraint(
            model_name="checkpointcosignature",
            constraint=models.UniqueConstraint(
                fields=("checkpoint", "witness"), name="one_cosignature_per_witness_and_checkpoint"
            ),
        ),
        # The nodes of the existing entries (reversing drops the table, so there is nothing to undo), then the
        # same append-only triggers as the ledger's, for the nodes and the cosignatures.
        migrations.RunPython(nodes_fill, migrations.RunPython.noop),
        migrations.RunPython(install, remove),
    ]
