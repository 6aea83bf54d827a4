"""Refusals a user can cause, each with the HTTP status it maps to and a message that says what was seen."""

from django.utils.translation import gettext as _


class Refused(Exception):
    """A request refused for a reason the user can act on; the message says what was seen and what to do."""

    status_code = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UploadTooLarge(Refused):
    status_code = 413

    def __init__(self, limit: int):
        super().__init__(
            _(
                "The file is larger than the limit of %(limit)s bytes; nothing was stored. Split the material or "
                "ask an administrator to raise the limit."
            )
            % {"limit": f"{limit:,}"}
        )


class UnsupportedEvidenceType(Refused):
    status_code = 415

    def __init__(self, detected: str, description: str, accepted: str):
        super().__init__(
            _(
                "The bytes of this file are %(description)s (%(detected)s), which is not a supported image or "
                "video type. Accepted: %(accepted)s."
            )
            % {"description": description, "detected": detected, "accepted": accepted}
        )
        self.detected = detected


class CaseClosed(Refused):
    status_code = 409

    def __init__(self, reference: str):
        super().__init__(
            _("Case %(reference)s is closed; reopen it before adding evidence or notes.") % {"reference": reference}
        )


class NoFileGiven(Refused):
    """No file in the upload's field; `other_fields` are the form fields that did hold files (an API client that
    named the field differently is told which name it used and which is expected)."""

    def __init__(self, field_name: str = "files", other_fields: tuple[str, ...] = ()):
        message = _("No file was received. Choose one or more image or video files to upload.")
        if other_fields:
            message = _(
                "No file was received in the form field “%(field)s”: this request sent files in %(fields)s. "
                "Send each image or video file as a “%(field)s” part."
            ) % {"field": field_name, "fields": ", ".join(f"“{name[:64]}”" for name in other_fields)}
        super().__init__(message)


class LastAdminError(Refused):
    status_code = 409


class MediaDeletionRefused(Refused):
    """Media under legal hold, not yet analysed or already deleted is not deleted."""

    status_code = 409


class MediaDeleted(Refused):
    """The item's media was deleted under retention or by hand; the message says when and why."""

    status_code = 410


class AlreadyMember(Refused):
    status_code = 409


class InvitationPending(Refused):
    """The organisation already has a pending invitation for this username; revoke it to send another."""

    status_code = 409


class InvitationClosed(Refused):
    """The invitation was accepted, declined or revoked in the meantime."""

    status_code = 409


class UsernameTaken(Refused):
    pass


class NotAMember(Refused):
    pass


class AccountRefused(Refused):
    """An administrator's decision over an account refused: their own, an administrator's, one that belongs to other
    organisations too, or one without an e-mail address for a reset; or turning off a required second factor."""

    status_code = 409
