"""Staff admin. Staff see only the organisations they belong to, and every domain record is read-only here:
each write goes through a service, which records it in the custody ledger, and the admin has no such path
(the pages and the API do: members, retention, tokens)."""

from django.contrib import admin

from .models import ApiToken, Case, EvidenceItem, Membership, Organisation


class ReadOnlyAdmin(admin.ModelAdmin):
    """View-only for everyone, superusers included (and so without the bulk delete action)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrganisationScopedAdmin(ReadOnlyAdmin):
    """Read-only, and limited to the staff member's organisations unless they are a superuser."""

    organisation_path = "organisation"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        organisation_ids = request.user.memberships.values("organisation_id")
        return queryset.filter(**{f"{self.organisation_path}__in": organisation_ids})


@admin.register(Organisation)
class OrganisationAdmin(OrganisationScopedAdmin):
    organisation_path = "pk"
    list_display = ["name", "slug", "kind", "retention_policy", "created_at"]


@admin.register(Membership)
class MembershipAdmin(OrganisationScopedAdmin):
    list_display = ["user", "organisation", "role"]
    list_filter = ["role"]


@admin.register(Case)
class CaseAdmin(OrganisationScopedAdmin):
    list_display = ["reference", "title", "organisation", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["reference", "title"]


@admin.register(EvidenceItem)
class EvidenceItemAdmin(OrganisationScopedAdmin):
    organisation_path = "case__organisation"
    list_display = ["public_id", "original_filename", "detected_mime_type", "size", "analysis_status", "verdict"]
    list_filter = ["analysis_status", "verdict", "detected_mime_type"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "user", "prefix", "organisation", "created_at", "last_used_at"]
    exclude = ["key_hash"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(user=request.user)
