"""The one table of what each role may do. Views and API endpoints declare a scope; this module decides.

A scope is granted with a reach: ALL cases of the organisation, or only the cases the member is INVOLVED in
(created or assigned to). A scope that a role does not have is simply absent from its row. For API tokens,
INVOLVED means the member's own tokens.
"""

from enum import Enum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    SUPERVISOR = "supervisor", _("Supervisor")
    INVESTIGATOR = "investigator", _("Investigator")
    AUDITOR = "auditor", _("Auditor")


class Reach(Enum):
    ALL = "all"
    INVOLVED = "involved"


class Scope(models.TextChoices):
    ORG_MANAGE = "org:manage", _("Manage members and organisation settings")
    CASE_READ = "case:read", _("See cases")
    CASE_CREATE = "case:create", _("Create cases")
    EVIDENCE_UPLOAD = "evidence:upload", _("Upload evidence")
    NOTE_ADD = "note:add", _("Add notes")
    CASE_MANAGE = "case:manage", _("Assign investigators, change case status, close cases")
    MEDIA_DOWNLOAD = "media:download", _("Download original media and export cases")
    MEDIA_DELETE = "media:delete", _("Delete stored media by hand before its retention ends")
    CUSTODY_READ = "custody:read", _("Read custody logs")
    TOKEN_REVOKE = "token:revoke", _("List and revoke API tokens: the organisation's, or only one's own")


ALL, INVOLVED = Reach.ALL, Reach.INVOLVED

ROLE_SCOPES: dict[Role, dict[Scope, Reach]] = {
    Role.ADMIN: {
        Scope.ORG_MANAGE: ALL,
        Scope.CASE_READ: ALL,
        Scope.CASE_CREATE: ALL,
        Scope.EVIDENCE_UPLOAD: ALL,
        Scope.NOTE_ADD: ALL,
        Scope.CASE_MANAGE: ALL,
        Scope.MEDIA_DOWNLOAD: ALL,
        Scope.MEDIA_DELETE: ALL,
        Scope.CUSTODY_READ: ALL,
        Scope.TOKEN_REVOKE: ALL,
    },
    Role.SUPERVISOR: {
        Scope.CASE_READ: ALL,
        Scope.CASE_CREATE: ALL,
        Scope.EVIDENCE_UPLOAD: ALL,
        Scope.NOTE_ADD: ALL,
        Scope.CASE_MANAGE: ALL,
        Scope.MEDIA_DOWNLOAD: ALL,
        Scope.MEDIA_DELETE: ALL,
        Scope.CUSTODY_READ: ALL,
        Scope.TOKEN_REVOKE: INVOLVED,
    },
    Role.INVESTIGATOR: {
        Scope.CASE_READ: INVOLVED,
        Scope.CASE_CREATE: ALL,
        Scope.EVIDENCE_UPLOAD: INVOLVED,
        Scope.NOTE_ADD: INVOLVED,
        Scope.MEDIA_DOWNLOAD: INVOLVED,
        Scope.CUSTODY_READ: INVOLVED,
        Scope.TOKEN_REVOKE: INVOLVED,
    },
    Role.AUDITOR: {
        Scope.CASE_READ: ALL,
        Scope.CUSTODY_READ: ALL,
        Scope.TOKEN_REVOKE: INVOLVED,
    },
}


def scope_reach(role: str, scope: Scope) -> Reach | None:
    """How far `role` holds `scope`: ALL, INVOLVED, or None when the role does not hold it at all."""
    return ROLE_SCOPES[Role(role)].get(scope)
