"""Every write to the case domain goes through one of these functions, which owns the transaction.

Named `<entity>_<action>`, keyword-only. Views, serializers, admin actions, commands and tasks call them and
never `.save()` domain models themselves, so the custody ledger can record each action in the same transaction.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from custody.ledger import custody_event_record
from custody.models import Action
from encryption.hierarchy import CiphertextDamaged, DataKeyDestroyed, data_key_find, storage_name
from forensics.analysers.filetype import libmagic_read_buffer
from forensics.services import analysis_queue

from .exceptions import (
    AlreadyMember,
    CaseClosed,
    InvitationClosed,
    InvitationPending,
    LastAdminError,
    MediaDeletionRefused,
    NotAMember,
    Refused,
    UnsupportedEvidenceType,
    UsernameTaken,
)
from .filenames import filename_as_data, text_as_data
from .media_types import ACCEPTED, accepted_label_list
from .models import (
    DEFAULT_RETENTION,
    DEFAULT_TWO_FACTOR_REQUIRED,
    AnalysisStatus,
    ApiToken,
    Case,
    CaseNote,
    CaseStatus,
    EvidenceDigest,
    EvidenceItem,
    Invitation,
    InvitationStatus,
    Membership,
    Organisation,
    OrganisationKind,
    RetentionPolicy,
    api_token_hash,
)
from .previews import derived_files_delete
from .roles import Role
from .tallies import tally_key, tally_move
from .tenancy import membership_resolve
from .upload import CHUNK_SIZE, ReceivedFile

API_TOKEN_PREFIX = "em_"


@transaction.atomic
def organisation_create(
    *,
    name: str,
    slug: str,
    kind: OrganisationKind = OrganisationKind.LAW_ENFORCEMENT,
    two_factor_required: bool | None = None,
    actor=None,
) -> Organisation:
    """Create a tenant with the retention policy and two-factor requirement its kind starts with (privacy first
    and no requirement for legal aid; keep and required for law enforcement) unless `two_factor_required` says
    otherwise; its ledger opens with the record of its creation. `actor` is None when set-up commands do it."""
    kind = OrganisationKind(kind)
    if two_factor_required is None:
        two_factor_required = DEFAULT_TWO_FACTOR_REQUIRED[kind]
    organisation = Organisation.objects.create(
        name=name,
        slug=slug,
        kind=kind,
        retention_policy=DEFAULT_RETENTION[kind],
        two_factor_required=two_factor_required,
    )
    Organisation.objects.lock(organisation.pk)
    custody_event_record(
        organisation=organisation,
        action=Action.ORGANISATION_CREATED,
        actor=actor,
        system="" if actor else "administration",
        details={
            "name": name,
            "slug": slug,
            "kind": str(kind),
            "retention": {"policy": organisation.retention_policy, "days": organisation.retention_days},
            "two_factor_required": two_factor_required,
        },
    )
    return organisation


@transaction.atomic
def organisation_kind_correct(*, organisation: Organisation, kind: OrganisationKind, actor=None) -> Organisation:
    """Correct an organisation recorded as the wrong kind, giving it the retention policy and two-factor
    requirement that kind starts with (as organisation_create would have); the change, with the policies before
    and after, is recorded. An organisation already of that kind is left as it is, its policies included (they
    may have been chosen since). `actor` is None when set-up commands do it."""
    kind = OrganisationKind(kind)
    locked = Organisation.objects.lock(organisation.pk)
    if locked.kind == kind:
        return locked
    before = {
        "kind": locked.kind,
        "retention": {"policy": locked.retention_policy, "days": locked.retention_days},
        "two_factor_required": locked.two_factor_required,
    }
    locked.kind, locked.retention_policy = kind, DEFAULT_RETENTION[kind]
    locked.two_factor_required = DEFAULT_TWO_FACTOR_REQUIRED[kind]
    locked.save(update_fields=["kind", "retention_policy", "two_factor_required"])
    after = {
        "kind": str(kind),
        "retention": {"policy": str(locked.retention_policy), "days": locked.retention_days},
        "two_factor_required": locked.two_factor_required,
    }
    recorder = {"organisation": locked, "actor": actor, "system": "" if actor else "administration"}
    custody_event_record(action=Action.ORGANISATION_KIND_CHANGED, details={"from": before, "to": after}, **recorder)
    # The policies it resets are recorded under their own actions too, so an audit of retention or two-factor
    # changes finds them whatever changed them.
    if after["retention"] != before["retention"]:
        custody_event_record(
            action=Action.RETENTION_CHANGED, details={"from": before["retention"], "to": after["retention"]}, **recorder
        )
    if after["two_factor_required"] != before["two_factor_required"]:
        custody_event_record(
            action=Action.TWO_FACTOR_POLICY_CHANGED, details={"required": after["two_factor_required"]}, **recorder
        )
    return locked


@transaction.atomic
def organisation_two_factor_set(*, organisation: Organisation, required: bool, actor) -> Organisation:
    """Require (or stop requiring) a second factor of every member; members without one must enrol at their next
    request. A no-op records nothing."""
    locked = Organisation.objects.lock(organisation.pk)
    if locked.two_factor_required == required:
        return locked
    locked.two_factor_required = required
    locked.save(update_fields=["two_factor_required"])
    custody_event_record(
        organisation=locked, action=Action.TWO_FACTOR_POLICY_CHANGED, actor=actor, details={"required": required}
    )
    return locked


@transaction.atomic
def organisation_retention_set(
    *, organisation: Organisation, policy: RetentionPolicy, days: int | None = None, actor
) -> Organisation:
    """Set the organisation's retention policy (and, for AFTER_DAYS, the number of days); a no-op records nothing."""
    policy = RetentionPolicy(policy)
    if days is not None and days < 1:
        raise ValueError("Retention days must be at least 1.")
    locked = Organisation.objects.lock(organisation.pk)
    before = {"policy": locked.retention_policy, "days": locked.retention_days}
    locked.retention_policy = policy
    if days is not None:
        locked.retention_days = days
    after = {"policy": str(policy), "days": locked.retention_days}
    if after == before:
        return locked
    locked.save(update_fields=["retention_policy", "retention_days"])
    custody_event_record(
        organisation=locked, action=Action.RETENTION_CHANGED, actor=actor, details={"from": before, "to": after}
    )
    return locked


@transaction.atomic
def membership_set(*, organisation: Organisation, user: AbstractBaseUser, role: Role, actor=None) -> Membership:
    """Change a member's role (`actor`, an administrator); the last admin cannot be demoted. Set-up commands, which
    act for the operator (`actor` None), also add members directly; administrators invite instead.
    """
    Organisation.objects.lock(organisation.pk)
    existing = Membership.objects.filter(organisation=organisation, user=user).first()
    if existing is None and actor is not None:
        # An administrator adds nobody without their consent: they invite (or create a new account).
        raise NotAMember(
            _("%(name)s is not a member of this organisation; invite them instead.") % {"name": user.get_username()}
        )
    if existing and existing.role == role:
        return existing
    if existing and existing.role == Role.ADMIN and role != Role.ADMIN:
        _refuse_losing_last_admin(organisation)
    membership, _created = Membership.objects.update_or_create(
        organisation=organisation, user=user, defaults={"role": role}
    )
    _record_member_change(membership, actor, {"from": existing.role if existing else None, "to": str(role)})
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor=None) -> None:
    Organisation.objects.lock(membership.organisation_id)
    if membership.role == Role.ADMIN:
        _refuse_losing_last_admin(membership.organisation)
    membership.delete()
    _record_member_change(membership, actor, {"from": membership.role, "to": None})


@transaction.atomic
def invitation_send(*, organisation: Organisation, username: str, role: Role, actor) -> Invitation:
    """Invite the account named `username` to the organisation with `role`; it joins only if its holder accepts.

    The same happens, and the same is answered, whether such an account exists or not and wherever it belongs:
    an invitation to nobody is simply never offered to anyone."""
    Organisation.objects.lock(organisation.pk)
    role = Role(role)
    if Membership.objects.filter(organisation=organisation, user__username=username).exists():
        raise AlreadyMember(
            _("%(name)s is already a member of this organisation; change their role instead.") % {"name": username}
        )
    if Invitation.objects.pending().filter(organisation=organisation, username=username).exists():
        raise InvitationPending(
            _("%(name)s already has a pending invitation; revoke it to send another.") % {"name": username}
        )
    invitee = get_user_model().objects.filter(username=username, is_active=True).first()
    invitation = Invitation.objects.create(
        organisation=organisation, username=username, invitee=invitee, role=role, invited_by=actor
    )
    _record_invitation(invitation, Action.INVITATION_SENT, actor)
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, actor) -> Membership:
    """The invitee joins the organisation with the invited role. The organisation their sessions and tokens act
    in does not change: they switch to it when they choose to."""
    Organisation.objects.lock(invitation.organisation_id)
    invitation = _invitation_decide(invitation, InvitationStatus.ACCEPTED, invitee=actor)
    membership, _created = Membership.objects.get_or_create(
        organisation_id=invitation.organisation_id, user=actor, defaults={"role": invitation.role}
    )
    _record_invitation(invitation, Action.INVITATION_ACCEPTED, actor)
    return membership


@transaction.atomic
def invitation_decline(*, invitation: Invitation, actor) -> Invitation:
    Organisation.objects.lock(invitation.organisation_id)
    invitation = _invitation_decide(invitation, InvitationStatus.DECLINED, invitee=actor)
    _record_invitation(invitation, Action.INVITATION_DECLINED, actor)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor) -> Invitation:
    """An administrator withdraws a pending invitation of their organisation."""
    Organisation.objects.lock(invitation.organisation_id)
    invitation = _invitation_decide(invitation, InvitationStatus.REVOKED)
    _record_invitation(invitation, Action.INVITATION_REVOKED, actor)
    return invitation


def _invitation_decide(invitation: Invitation, status: InvitationStatus, invitee=None) -> Invitation:
    """Close the invitation with `status`, re-read under the organisation lock so that two decisions never both
    succeed; an accept or decline must come from the invitee."""
    pending = Invitation.objects.pending().select_related("organisation").filter(pk=invitation.pk)
    if invitee is not None:
        pending = pending.filter(invitee_id=invitee.pk)
    invitation = pending.first()
    if invitation is None:
        raise InvitationClosed(_("This invitation was already accepted, declined or revoked."))
    invitation.status, invitation.decided_at = status, timezone.now()
    invitation.save(update_fields=["status", "decided_at"])
    return invitation


def _record_invitation(invitation: Invitation, action: Action, actor) -> None:
    custody_event_record(
        organisation=invitation.organisation,
        action=action,
        actor=actor,
        details={"invitation": str(invitation.public_id), "username": invitation.username, "role": invitation.role},
    )


@transaction.atomic
def account_create(
    *, organisation: Organisation, username: str, password: str, role: Role, actor, email: str = ""
) -> Membership:
    """Create a new account whose only membership is `organisation`, with `role`, and the e-mail address password
    resets go to (optional). The caller has validated the username, password and address (the form or serializer
    runs Django's validators)."""
    Organisation.objects.lock(organisation.pk)
    role = Role(role)
    users = get_user_model()
    if users.objects.filter(username=username).exists():
        raise UsernameTaken(_("That username is taken; choose another."))
    user = users.objects.create_user(username=username, password=password, email=email)
    membership = Membership.objects.create(organisation=organisation, user=user, role=role)
    custody_event_record(
        organisation=organisation,
        action=Action.ACCOUNT_CREATED,
        actor=actor,
        details={"username": username, "role": str(role)},
    )
    return membership


@transaction.atomic
def api_token_create(*, user, name: str, organisation: Organisation | None = None) -> tuple[ApiToken, str]:
    """Create a token bound to `organisation` (by default where the user acts now: the organisation they joined
    first) and return it with its secret, which is never stored and cannot be shown again. The creation is
    recorded in that organisation's ledger; a token of someone in no organisation acts nowhere until switched."""
    if organisation is None:
        membership = membership_resolve(user, None)
        organisation = membership.organisation if membership else None
    elif not Membership.objects.filter(user=user, organisation=organisation).exists():
        raise ValueError(f"{user.get_username()} is not a member of {organisation}; a token there would act nowhere.")
    if organisation is not None:
        Organisation.objects.lock(organisation.pk)
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=secret[:10], key_hash=api_token_hash(secret), organisation=organisation
    )
    if organisation is not None:
        custody_event_record(
            organisation=organisation,
            action=Action.API_TOKEN_CREATED,
            actor=user,
            details={"token": token.prefix, "name": token.name},
        )
    return token, secret


@transaction.atomic
def api_token_activate(*, token: ApiToken, membership: Membership) -> ApiToken:
    """Make later requests with this token act in the organisation of `membership` (one of the token user's);
    recorded in that organisation's ledger with where the token acted before."""
    if membership.user_id != token.user_id:
        raise ValueError("A token can only be switched to an organisation its own user belongs to.")
    organisation = Organisation.objects.lock(membership.organisation_id)
    token = ApiToken.objects.select_related("organisation").get(pk=token.pk)
    if token.organisation_id == organisation.pk:
        return token
    previous = token.organisation.slug if token.organisation else None
    token.organisation = organisation
    token.save(update_fields=["organisation"])
    custody_event_record(
        organisation=organisation,
        action=Action.API_TOKEN_ACTIVATED,
        actor=token.user,
        details={"token": token.prefix, "name": token.name, "from": previous},
    )
    return token


@transaction.atomic
def api_token_rename(*, token: ApiToken, name: str, actor) -> ApiToken:
    """Give one of `actor`'s own tokens a new name (surrounding spaces dropped), recorded in the ledger of the
    organisation it acts in with the name before and after (none for a token that acts nowhere). An empty or
    over-long name is refused; the name it already has records nothing."""
    if actor.pk != token.user_id:
        raise ValueError("Only a token's own holder names it.")
    name = name.strip()
    limit = ApiToken._meta.get_field("name").max_length
    if not name:
        raise Refused(_("A token needs a name saying what it is for; it keeps its old name."))
    if len(name) > limit:
        raise Refused(
            _("The name is %(length)d characters long; the limit is %(limit)d. The token keeps its old name.")
            % {"length": len(name), "limit": limit}
        )
    if token.organisation_id is not None:
        Organisation.objects.lock(token.organisation_id)
    # Re-read under the lock: the name recorded as the old one is the current one, and a token revoked meanwhile
    # is gone.
    current = ApiToken.objects.select_related("organisation").filter(pk=token.pk).first()
    if current is None:
        raise Refused(_("This token was revoked meanwhile; there is nothing to rename."))
    if current.name == name:
        return current
    previous, current.name = current.name, name
    current.save(update_fields=["name"])
    if current.organisation is not None:
        custody_event_record(
            organisation=current.organisation,
            action=Action.API_TOKEN_RENAMED,
            actor=actor,
            details={"token": current.prefix, "from": previous, "to": name},
        )
    return current


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor) -> None:
    """Delete the token, so that it authenticates nowhere from the next request on; recorded in the ledger of the
    organisation it acts in, with its holder. Revoking a token already gone records nothing."""
    if token.organisation_id is not None:
        Organisation.objects.lock(token.organisation_id)
    # Re-read under the lock: of two revocations at once, only the one that deletes the row records it.
    current = ApiToken.objects.select_related("organisation", "user").filter(pk=token.pk).first()
    if current is None:
        return
    current.delete()
    if current.organisation is not None:
        custody_event_record(
            organisation=current.organisation,
            action=Action.API_TOKEN_REVOKED,
            actor=actor,
            details={"token": current.prefix, "name": current.name, "holder": current.user.get_username()},
        )


def _record_member_change(membership: Membership, actor, change: dict) -> None:
    custody_event_record(
        organisation=membership.organisation,
        action=Action.MEMBER_CHANGED,
        actor=actor,
        system="" if actor else "administration",
        details={"member": membership.user.get_username(), "role": change},
    )


def _refuse_losing_last_admin(organisation: Organisation) -> None:
    admins = Membership.objects.select_for_update().filter(organisation=organisation, role=Role.ADMIN)
    if len(admins) <= 1:
        raise LastAdminError(_("An organisation must keep at least one administrator; appoint another first."))


@transaction.atomic
def case_create(*, organisation: Organisation, title: str, description: str = "", actor) -> Case:
    # The row lock makes concurrent creations take consecutive numbers instead of colliding.
    locked = Organisation.objects.lock(organisation.pk)
    locked.case_counter += 1
    locked.save(update_fields=["case_counter"])
    reference = f"EM-{timezone.now().year}-{locked.case_counter:05d}"
    case = Case.objects.create(
        organisation=organisation, reference=reference, title=title, description=description, created_by=actor
    )
    custody_event_record(
        organisation=organisation,
        action=Action.CASE_CREATED,
        actor=actor,
        case=case,
        details={"reference": reference, "title": title},
    )
    return case


@transaction.atomic
def case_update(*, case: Case, title: str, description: str, actor) -> Case:
    """Change the case's title and description; a no-op records nothing."""
    Organisation.objects.lock(case.organisation_id)
    changed = {
        name: {"from": getattr(case, name), "to": value}
        for name, value in (("title", title), ("description", description))
        if getattr(case, name) != value
    }
    if not changed:
        return case
    case.title, case.description = title, description
    case.save(update_fields=["title", "description", "updated_at"])
    custody_event_record(
        organisation=case.organisation, action=Action.CASE_UPDATED, actor=actor, case=case, details=changed
    )
    return case


@transaction.atomic
def case_status_change(*, case: Case, status: CaseStatus, actor) -> Case:
    Organisation.objects.lock(case.organisation_id)
    previous = case.status
    case.status = status
    case.save(update_fields=["status", "updated_at"])
    custody_event_record(
        organisation=case.organisation,
        action=Action.CASE_CLOSED if status == CaseStatus.CLOSED else Action.CASE_STATUS_CHANGED,
        actor=actor,
        case=case,
        details={"from": previous, "to": str(status)},
    )
    return case


@transaction.atomic
def case_legal_hold_set(*, case: Case, hold: bool, reason: str, actor) -> Case:
    """Place or lift a legal hold, which suspends every deletion of the case's media; a no-op records nothing."""
    Organisation.objects.lock(case.organisation_id)
    case = Case.objects.select_related("organisation").get(pk=case.pk)
    if case.legal_hold == hold:
        return case
    case.legal_hold, case.legal_hold_reason = hold, reason if hold else ""
    case.save(update_fields=["legal_hold", "legal_hold_reason", "updated_at"])
    custody_event_record(
        organisation=case.organisation,
        action=Action.LEGAL_HOLD_SET if hold else Action.LEGAL_HOLD_RELEASED,
        actor=actor,
        case=case,
        details={"reason": reason},
    )
    return case


@transaction.atomic
def case_assign(*, case: Case, investigators: list, actor) -> Case:
    """Replace the case's assignees; every one must be a member of the case's organisation."""
    Organisation.objects.lock(case.organisation_id)
    member_ids = set(
        Membership.objects.filter(organisation_id=case.organisation_id, user__in=investigators).values_list(
            "user_id", flat=True
        )
    )
    outsiders = [u for u in investigators if u.pk not in member_ids]
    if outsiders:
        raise ValueError(f"Not members of this organisation: {', '.join(str(u) for u in outsiders)}")
    case.assignees.set(investigators)
    vars(case).pop("assignee_ids", None)  # what the instance remembered of them is out of date
    case.save(update_fields=["updated_at"])
    custody_event_record(
        organisation=case.organisation,
        action=Action.CASE_ASSIGNED,
        actor=actor,
        case=case,
        details={"assignees": sorted(u.get_username() for u in investigators)},
    )
    return case


@transaction.atomic
def case_note_add(*, case: Case, text: str, actor) -> CaseNote:
    Organisation.objects.lock(case.organisation_id)
    if case.is_closed:
        raise CaseClosed(case.reference)
    note = CaseNote.objects.create(case=case, author=actor, text=text)
    custody_event_record(
        organisation=case.organisation,
        action=Action.NOTE_ADDED,
        actor=actor,
        case=case,
        details={"note_sha256": hashlib.sha256(text.encode()).hexdigest(), "length": len(text)},
    )
    return note


@dataclass(frozen=True)
class Acquisition:
    """Where the caseworker found the material; every part optional."""

    found_at: str = ""
    collected_by: str = ""
    collected_at: datetime | None = None


@dataclass(frozen=True)
class EvidenceReceipt:
    item: EvidenceItem
    duplicate_of: EvidenceItem | None


def evidence_storage_key(*, organisation: Organisation, sha256: str) -> str:
    # Content-addressed per organisation under a keyed hash: identical bytes in two organisations never share (or
    # reveal) a file, and no name on disk is a SHA-256 that could be matched against a list of known images.
    return storage_name(organisation=organisation, sha256=sha256)


@transaction.atomic
def evidence_receive(
    *, case: Case, received: ReceivedFile, actor, acquisition: Acquisition = Acquisition()
) -> EvidenceReceipt:
    """Accept received bytes as an evidence item of `case`: check the true type, store once, record digests.

    On any refusal or failure the spooled bytes are discarded, so callers never leave a spool file behind.
    """
    try:
        return _evidence_receive(case=case, received=received, actor=actor, acquisition=acquisition)
    finally:
        received.close()


def _evidence_receive(*, case: Case, received: ReceivedFile, actor, acquisition: Acquisition) -> EvidenceReceipt:
    detected, label = _true_type(received)
    if detected not in ACCEPTED:
        raise UnsupportedEvidenceType(detected, label, accepted_label_list())
    # Serialise ingests per organisation so two uploads of the same bytes cannot both miss the duplicate.
    organisation = Organisation.objects.lock(case.organisation_id)
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.is_closed:
        raise CaseClosed(case.reference)
    sha256 = received.digests["sha256"]
    duplicate_of = (
        EvidenceItem.objects.in_organisation(organisation)
        .filter(digests__algorithm="sha256", digests__value=sha256)
        .order_by("received_at", "id")
        .first()
    )
    item = EvidenceItem.objects.create(
        case=case,
        original_filename=filename_as_data(received.original_name),
        declared_mime_type=text_as_data(received.content_type or "", 255),
        detected_mime_type=detected,
        size=received.size,
        storage_key=evidence_storage_key(organisation=organisation, sha256=sha256),
        duplicate_of=duplicate_of,
        received_by=actor,
        acquired_from=acquisition.found_at,
        acquired_by=acquisition.collected_by,
        acquired_at=acquisition.collected_at,
    )
    EvidenceDigest.objects.bulk_create(
        EvidenceDigest(item=item, algorithm=algorithm, value=value) for algorithm, value in received.digests.items()
    )
    tally_move(
        organisation_id=organisation.pk,
        case_id=case.pk,
        before=None,
        after=tally_key(
            received_at=item.received_at,
            analysis_status=item.analysis_status,
            verdict=item.verdict,
            assessment=item.assessment,
        ),
    )
    custody_event_record(
        organisation=organisation,
        action=Action.EVIDENCE_RECEIVED,
        actor=actor,
        evidence=item,
        details={
            "digests": dict(received.digests),
            "size": item.size,
            "detected_mime_type": detected,
            "declared_mime_type": item.declared_mime_type,
            "original_filename": item.original_filename,
            "type_mismatches": item.type_mismatches,
            "duplicate_of": str(duplicate_of.public_id) if duplicate_of else None,
            "acquisition": {
                "found_at": item.acquired_from,
                "collected_by": item.acquired_by,
                "collected_at": item.acquired_at.isoformat() if item.acquired_at else None,
            },
        },
    )
    analysis_queue(item=item, reason="upload", actor=actor)
    _store_once(key=item.storage_key, received=received)
    return EvidenceReceipt(item=item, duplicate_of=duplicate_of)


def _true_type(received: ReceivedFile) -> tuple[str, str]:
    """(MIME type, description) libmagic reads from the bytes. The spool holds ciphertext, so libmagic reads the
    first bytes kept from the stream: as much as it reads of a file."""
    if not received.size:
        return "inode/x-empty", "empty"  # what libmagic names an empty file (a buffer it calls application/x-empty)
    return libmagic_read_buffer(received.head)


def _store_once(*, key: str, received: ReceivedFile) -> None:
    """Move the encrypted spool into content-addressed storage unless an intact copy is already there.

    Runs last in `evidence_receive`, so a refusal earlier in the transaction leaves no stored file behind.
    """
    storage = storages["evidence"]
    if storage.exists(key) and _intact(key, received.digests["sha256"]):
        return
    stored_as = storage.save(key, received)
    if stored_as != key:
        raise RuntimeError(f"Evidence storage stored {key!r} as {stored_as!r}; refusing a renamed copy.")


def _intact(key: str, sha256: str) -> bool:
    try:
        return stored_sha256(key) == sha256
    except (CiphertextDamaged, DataKeyDestroyed):
        return False


def stored_sha256(key: str) -> str:
    """SHA-256 of stored evidence bytes, decrypted and read in chunks."""
    hasher = hashlib.sha256()
    with storages["evidence"].open(key, "rb") as stored:
        for chunk in stored.chunks(CHUNK_SIZE):
            hasher.update(chunk)
    return hasher.hexdigest()


def media_deletion_refusal(item: EvidenceItem) -> str | None:
    """Why the item's media may not be deleted now, by policy or by hand; None when it may."""
    if not item.media_held:
        return _("The media of this item was already deleted on %(when)s UTC.") % {
            "when": f"{item.media_deleted_at:%Y-%m-%d %H:%M}"
        }
    if item.case.legal_hold:
        return _("Case %(reference)s is under legal hold; lift the hold before deleting its media.") % {
            "reference": item.case.reference
        }
    if item.analysis_status != AnalysisStatus.DONE:
        return _("The analysis of this item is not done; media is only deleted once its findings are recorded.")
    return None


@dataclass(frozen=True)
class MediaDeletion:
    item: EvidenceItem
    bytes_removed: bool
    # Items that hold the same stored bytes and still need them; the bytes stay while any does.
    still_held_by: list[str]


@transaction.atomic
def evidence_media_delete(*, item: EvidenceItem, reason: str, actor=None, system: str = "") -> MediaDeletion:
    """Delete an item's stored media and record a signed tombstone (`media.deleted`); keep everything else.

    `actor` is the person deleting by hand, or pass `system` naming the schedule or command. The bytes are removed
    only when no other item still holding media shares them (identical bytes received twice share one file), and
    their data key is destroyed with them (crypto-shredding: a copy of the ciphertext in a backup or a snapshot can
    no longer be read). The tombstone is recorded for this item either way, with the digests that remain the proof
    of what was held and what became of the data key.
    """
    organisation = Organisation.objects.lock(item.case.organisation_id)
    # Re-read under the organisation lock, which every writer of the item and its case takes first.
    item = EvidenceItem.objects.select_related("case__organisation").prefetch_related("digests").get(pk=item.pk)
    refusal = media_deletion_refusal(item)
    if refusal:
        raise MediaDeletionRefused(refusal)
    item.media_deleted_at, item.media_deleted_reason = timezone.now(), reason[:500]
    item.save(update_fields=["media_deleted_at", "media_deleted_reason"])
    still_held_by = [
        str(public_id)
        for public_id in EvidenceItem.objects.in_organisation(organisation)
        .media_held()
        .filter(storage_key=item.storage_key)
        .order_by("received_at", "id")
        .values_list("public_id", flat=True)
    ]
    custody_event_record(
        organisation=organisation,
        action=Action.MEDIA_DELETED,
        actor=actor,
        system=system,
        evidence=item,
        details={
            "reason": item.media_deleted_reason,
            "deleted_at": item.media_deleted_at.isoformat(),
            "policy": {"name": organisation.retention_policy, "days": organisation.retention_days},
            "by": actor.get_username() if actor is not None else system,
            "digests": {d.algorithm: d.value for d in item.digests.all()},
            "size": item.size,
            "bytes_removed": not still_held_by,
            "bytes_still_held_by": still_held_by,
            "data_key": _data_key_fate(item.storage_key, destroyed=not still_held_by),
        },
    )
    # Last, so that a refusal or a failure earlier in the transaction leaves the bytes in place.
    if not still_held_by:
        storages["evidence"].delete(item.storage_key)
        derived_files_delete(item)
    return MediaDeletion(item=item, bytes_removed=not still_held_by, still_held_by=still_held_by)


def _data_key_fate(key: str, *, destroyed: bool) -> dict | None:
    """What the tombstone says of the media's data key: destroyed with the bytes, or kept for the items sharing
    them; None for media stored before encryption was turned on."""
    row = data_key_find(store="evidence", name=key)
    return None if row is None else {"id": str(row.object_id), "destroyed": destroyed}
