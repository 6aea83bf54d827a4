"""API representations of the custody ledger. Entries and checkpoints are given exactly as they are hashed and
signed (UUIDs and times as their canonical strings), so a client can recompute every hash and signature."""

from rest_framework import serializers

from ..models import Action
from ..notes import ED25519_COSIGNATURE, NoteKey


class PublicKeySerializer(serializers.Serializer):
    key_id = serializers.CharField(help_text="First 16 hex characters of SHA-256 over the raw public key.")
    algorithm = serializers.CharField()
    public_key_pem = serializers.CharField(help_text="SubjectPublicKeyInfo PEM.")
    public_key_base64 = serializers.CharField(help_text="The raw 32-byte Ed25519 key, standard base64.")
    active = serializers.BooleanField(help_text="Whether this key signs new entries; retired keys stay listed.")


class CustodyEntrySerializer(serializers.Serializer):
    organisation = serializers.UUIDField()
    sequence = serializers.IntegerField()
    recorded_at = serializers.CharField(help_text="UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ, as hashed.")
    actor = serializers.CharField(help_text='Username, or "system:<task>".')
    action = serializers.ChoiceField(choices=Action.choices)
    case = serializers.UUIDField(allow_null=True)
    evidence = serializers.UUIDField(allow_null=True)
    details = serializers.JSONField()
    prev_hash = serializers.CharField()
    key_id = serializers.CharField()
    entry_hash = serializers.CharField(help_text="SHA-256 of the canonical encoding of every field above.")
    signature = serializers.CharField(help_text="Ed25519 over the entry domain prefix and entry_hash, base64.")


class CheckpointSerializer(serializers.Serializer):
    organisation = serializers.UUIDField()
    tree_size = serializers.IntegerField()
    root_hash = serializers.CharField(help_text="RFC 6962 Merkle root of the first tree_size entry hashes, hex.")
    made_at = serializers.CharField()
    key_id = serializers.CharField()
    signature = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField(help_text="modified, deleted, inserted, reordered, bad signature, unknown key…")
    sequence = serializers.IntegerField(allow_null=True)
    detail = serializers.CharField()


class VerificationSerializer(serializers.Serializer):
    organisation = serializers.CharField(help_text="The organisation's slug.")
    ok = serializers.BooleanField()
    summary = serializers.CharField()
    entries_checked = serializers.IntegerField()
    checkpoints_checked = serializers.IntegerField()
    problems = ProblemSerializer(many=True)
    latest_checkpoint = CheckpointSerializer(allow_null=True)
    recorded_as = serializers.IntegerField(help_text="Sequence number of the custody.verified event recorded.")


class BundleEventSerializer(serializers.Serializer):
    leaf_index = serializers.IntegerField()
    entry = CustodyEntrySerializer()
    inclusion_proof = serializers.ListField(child=serializers.CharField(), help_text="Audit path, hex, leaf upward.")


class BundleManifestEventSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    entry_hash = serializers.CharField()


class BundleManifestSerializer(serializers.Serializer):
    organisation = serializers.UUIDField()
    evidence = serializers.UUIDField()
    checkpoint_tree_size = serializers.IntegerField()
    checkpoint_root_hash = serializers.CharField()
    events = BundleManifestEventSerializer(many=True)
    key_id = serializers.CharField()
    signature = serializers.CharField()


class CustodyBundleSerializer(serializers.Serializer):
    """Describes the bundle document for the schema; the view returns the document itself, byte for byte."""

    format = serializers.CharField()
    version = serializers.IntegerField()
    organisation = serializers.UUIDField()
    evidence = serializers.UUIDField()
    exported_at = serializers.CharField()
    checkpoint = CheckpointSerializer()
    events = BundleEventSerializer(many=True)
    manifest = BundleManifestSerializer()
    public_keys = PublicKeySerializer(many=True)


class ConsistencyQuerySerializer(serializers.Serializer):
    old_size = serializers.IntegerField(min_value=1, help_text="The older tree size.")
    new_size = serializers.IntegerField(min_value=1, help_text="The newer tree size, at most the ledger's.")


class ConsistencyProofSerializer(serializers.Serializer):
    old_size = serializers.IntegerField()
    new_size = serializers.IntegerField()
    proof = serializers.ListField(child=serializers.CharField(), help_text="RFC 6962 consistency proof, hex.")


class WitnessSerializer(serializers.Serializer):
    name = serializers.CharField()
    vkey = serializers.SerializerMethodField(help_text="name+key ID+base64(0x04 || Ed25519 public key).")
    added_at = serializers.DateTimeField()
    url = serializers.CharField(help_text="Submission prefix the server pushes checkpoints to; empty: it pulls them.")
    acknowledged_size = serializers.IntegerField(help_text="Size of the latest checkpoint it said it cosigned.")
    failure = serializers.CharField(help_text="Why the last push to it failed; empty when it succeeded.")

    def get_vkey(self, witness) -> str:
        return NoteKey(witness.name, ED25519_COSIGNATURE, bytes(witness.public_key)).vkey()


class WitnessAddSerializer(serializers.Serializer):
    vkey = serializers.CharField(max_length=400, help_text="The witness's Ed25519 cosignature verifier key.")
    url = serializers.CharField(
        max_length=500,
        required=False,
        default="",
        help_text="Its submission prefix (c2sp.org/tlog-witness): new checkpoints go to <url>/add-checkpoint.",
    )


class VerifierKeySerializer(serializers.Serializer):
    key_id = serializers.CharField(help_text="The custody key's id.")
    vkey = serializers.CharField(help_text="Signed-note verifier key of the checkpoint notes it signed.")
    active = serializers.BooleanField()


class LogSerializer(serializers.Serializer):
    origin = serializers.CharField(help_text="The first line of every checkpoint note of the organisation.")
    verifier_keys = VerifierKeySerializer(many=True)
    witnesses = WitnessSerializer(many=True)


class CosignedNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=20_000, trim_whitespace=False, help_text="A checkpoint note, cosigned.")


class CosignatureSerializer(serializers.Serializer):
    witness = serializers.CharField(source="witness.name")
    signed_at = serializers.DateTimeField()
    line = serializers.CharField()


class ListedCheckpointSerializer(CheckpointSerializer):
    """A checkpoint as listed: its signed fields, its C2SP signed note and the witness cosignatures stored for it."""

    note = serializers.CharField(allow_null=True, help_text="The checkpoint as a signed note (null before notes).")
    cosignatures = CosignatureSerializer(many=True)
