"""Staff admin for the custody ledger: read-only, like every other way into it, and scoped to the staff member's
organisations."""

from django.contrib import admin

from cases.admin import OrganisationScopedAdmin

from .models import Checkpoint, CustodyEvent, ReviewSignOff


@admin.register(CustodyEvent)
class CustodyEventAdmin(OrganisationScopedAdmin):
    list_display = ["organisation", "sequence", "recorded_at", "actor_label", "action", "entry_hash"]
    list_filter = ["action"]
    search_fields = ["entry_hash", "actor_label"]


@admin.register(Checkpoint)
class CheckpointAdmin(OrganisationScopedAdmin):
    list_display = ["organisation", "tree_size", "root_hash", "made_at", "key_id"]


@admin.register(ReviewSignOff)
class ReviewSignOffAdmin(OrganisationScopedAdmin):
    list_display = ["organisation", "case", "signed_by", "signed_at"]
