"""Staff admin. Staff see only the organisations they belong to; domain records are read-only here because
every write must go through the services (and so into the custody ledger)."""

from django.contrib import admin

from .models import ApiToken, Case, EvidenceItem, Membership, Organisation


class OrganisationScopedAdmin(admin.ModelAdmin):
    organisation_path = "organisation"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        organisation_ids = request.user.memberships.values("organisation_id")
        return queryset.filter(**{f"{self.organisation_path}__in": organisation_ids})


class ReadOnlyAdmin(OrganisationScopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Organisation)
class OrganisationAdmin(OrganisationScopedAdmin):
    organisation_path = "pk"
    list_display = ["name", "slug", "created_at"]
    prepopulated_fields = {"slug": ["name"]}

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Membership)
class MembershipAdmin(OrganisationScopedAdmin):
    list_display = ["user", "organisation", "role"]
    list_filter = ["role"]

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["reference", "title", "organisation", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["reference", "title"]


@admin.register(EvidenceItem)
class EvidenceItemAdmin(ReadOnlyAdmin):
    organisation_path = "case__organisation"
    list_display = ["public_id", "original_filename", "detected_mime_type", "size", "analysis_status", "verdict"]
    list_filter = ["analysis_status", "verdict", "detected_mime_type"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "organisation", "created_at", "last_used_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    exclude = ["key_hash"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(user=request.user)

    def has_add_permission(self, request):
        return False
