"""Filtering of the case list: the same search as the case list page, plus filters an integrator combines freely.

Every filter narrows a queryset that is already limited to what the member may see, so none can reach further.
"""

from datetime import UTC, datetime

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _
from django_filters.fields import IsoDateTimeField

from ..models import Case, CaseStatus, EvidenceItem, Verdict
from ..search import case_search
from .permissions import request_membership


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, turned into UTC. ISO 8601 allows offsets up to ±23:59 but PostgreSQL only ±15:59, so
    a far offset passed on would fail in the database (Schemathesis found it with +17:58)."""

    def to_python(self, value) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError:  # the first or last day of year 1 or 9999, moved past the calendar by its offset
            raise ValidationError(_("Enter a date-time between the years 1 and 9999 in UTC."), code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class CaseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search",
        label="Search: reference or title (contains), an item's original filename (contains) or a hash prefix.",
    )
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices)
    verdict = django_filters.ChoiceFilter(
        choices=Verdict.choices, method="filter_verdict", label="Cases with at least one item of this verdict."
    )
    assignee = django_filters.CharFilter(
        field_name="assignees__username", distinct=True, label="Cases assigned to this username."
    )
    created_after = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="Created at or after (ISO 8601)."
    )
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt", label="Created before (ISO 8601).")

    class Meta:
        model = Case
        fields = ["q", "status", "verdict", "assignee", "created_after", "created_before"]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        query = value.strip()
        if not query:
            return queryset
        organisation_id = request_membership(self.request).organisation_id
        # A hash prefix of any length: integrators search by the digests they hold.
        return queryset.filter(case_search(query, organisation_id, min_hash_prefix=1))

    def filter_verdict(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Exists(EvidenceItem.objects.filter(case=OuterRef("pk"), verdict=value)))
