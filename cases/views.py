"""Server-rendered pages for cases and evidence. Each view declares its scope; services do the writes."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views import View
from django.views.decorators.http import require_POST

from custody.access import IntegrityAlarm, evidence_view_record, media_download_record, verified_media_chunks
from custody.models import Action

from . import services
from .exceptions import Refused
from .forms import (
    AcquisitionForm,
    AssignForm,
    CaseForm,
    LegalHoldForm,
    MediaDeleteForm,
    MemberForm,
    NoteForm,
    RetentionForm,
    StatusForm,
)
from .media_types import ACCEPTED
from .models import Case, CaseStatus, EvidenceDigest, EvidenceItem, Membership
from .roles import Role, Scope
from .tenancy import membership_activate
from .upload import uploaded_files
from .views_base import MemberView


def evidence_with_digests(queryset):
    return queryset.prefetch_related(Prefetch("digests", queryset=EvidenceDigest.objects.order_by("algorithm")))


@login_required
@require_POST
def organisation_switch(request):
    membership = get_object_or_404(
        Membership.objects.select_related("organisation"),
        user=request.user,
        organisation__slug=request.POST.get("slug"),
    )
    membership_activate(request, membership)
    messages.info(request, f"You are now working in {membership.organisation.name}.")
    return redirect("cases:list")


class CaseListView(MemberView, View):
    required_scope = Scope.CASE_READ
    page_size = 25

    def get(self, request):
        cases = (
            Case.objects.for_member(self.membership)
            .annotate(item_count=Count("evidence"))
            .order_by("-created_at", "-id")
        )
        query = request.GET.get("q", "").strip()
        if query:
            matching_items = EvidenceItem.objects.filter(
                Q(original_filename__icontains=query) | Q(digests__value__startswith=query.lower())
            ).values("case_id")
            cases = cases.filter(Q(reference__icontains=query) | Q(title__icontains=query) | Q(pk__in=matching_items))
        status = request.GET.get("status", "")
        if status in CaseStatus.values:
            cases = cases.filter(status=status)
        page = Paginator(cases.select_related("created_by"), self.page_size).get_page(request.GET.get("page"))
        return render(
            request,
            "cases/case_list.html",
            {
                "page": page,
                "query": query,
                "status": status,
                "statuses": CaseStatus.choices,
                "can_create": self.membership.has_scope(Scope.CASE_CREATE),
            },
        )


class CaseCreateView(MemberView, View):
    required_scope = Scope.CASE_CREATE

    def get(self, request):
        return render(request, "cases/case_form.html", {"form": CaseForm()})

    def post(self, request):
        form = CaseForm(request.POST)
        if not form.is_valid():
            return render(request, "cases/case_form.html", {"form": form}, status=400)
        case = services.case_create(
            organisation=self.membership.organisation,
            title=form.cleaned_data["title"],
            description=form.cleaned_data["description"],
            actor=request.user,
        )
        messages.success(request, f"Case {case.reference} created.")
        return redirect("cases:detail", case_id=case.public_id)


class CaseDetailView(MemberView, View):
    required_scope = Scope.CASE_READ

    def get(self, request, case_id):
        case = self.get_case(case_id)
        return self.render_detail(request, case)

    def render_detail(self, request, case, *, status=200, upload_error=None, acquisition_form=None):
        items = evidence_with_digests(case.evidence.select_related("received_by"))
        membership = self.membership
        context = {
            "case": case,
            "items": items,
            "notes": case.notes.select_related("author"),
            "assignees": case.assignees.order_by("username"),
            "can_upload": membership.can(Scope.EVIDENCE_UPLOAD, case) and not case.is_closed,
            "can_note": membership.can(Scope.NOTE_ADD, case) and not case.is_closed,
            "can_manage": membership.can(Scope.CASE_MANAGE, case),
            "can_download": membership.can(Scope.MEDIA_DOWNLOAD, case),
            "can_export": membership.can(Scope.MEDIA_DOWNLOAD, case),
            "legal_hold_form": LegalHoldForm(initial={"hold": "off" if case.legal_hold else "on"}),
            "acquisition_form": acquisition_form or AcquisitionForm(),
            "status_form": StatusForm(initial={"status": case.status}),
            "assign_form": AssignForm(organisation=case.organisation, initial={"investigators": case.assignees.all()}),
            "note_form": NoteForm(),
            "upload_error": upload_error,
            "max_upload_bytes": settings.EVIDENCE_MAX_UPLOAD_BYTES,
        }
        return render(request, "cases/case_detail.html", context, status=status)


class EvidenceUploadView(CaseDetailView):
    required_scope = Scope.EVIDENCE_UPLOAD

    def post(self, request, case_id):
        case = self.get_case(case_id)
        acquisition_form = AcquisitionForm(request.POST)
        try:
            files = uploaded_files(request)
        except Refused as refusal:
            return self.render_detail(request, case, status=refusal.status_code, upload_error=refusal.message)
        if not acquisition_form.is_valid():
            for received in files:
                received.close()
            return self.render_detail(request, case, status=400, acquisition_form=acquisition_form)
        acquisition = services.Acquisition(**acquisition_form.cleaned_data)
        refused = []
        for received in files:
            try:
                receipt = services.evidence_receive(
                    case=case, received=received, actor=request.user, acquisition=acquisition
                )
            except Refused as refusal:
                refused.append(f"{received.original_name}: {refusal.message}")
                continue
            message = f"Received {receipt.item.original_filename} (SHA-256 {receipt.item.sha256[:16]}…)."
            if receipt.duplicate_of:
                message += f" Identical bytes were already received as item {receipt.duplicate_of.public_id}."
            messages.success(request, message)
        if refused:
            return self.render_detail(
                request, case, status=415 if len(refused) == len(files) else 200, upload_error=" ".join(refused)
            )
        return redirect("cases:detail", case_id=case.public_id)


class CaseStatusView(MemberView, View):
    required_scope = Scope.CASE_MANAGE

    def post(self, request, case_id):
        case = self.get_case(case_id)
        form = StatusForm(request.POST)
        if form.is_valid():
            services.case_status_change(case=case, status=form.cleaned_data["status"], actor=request.user)
            messages.success(request, f"Case {case.reference} is now {case.get_status_display().lower()}.")
        else:
            messages.error(request, "Choose one of the listed statuses.")
        return redirect("cases:detail", case_id=case.public_id)


class CaseAssignView(MemberView, View):
    required_scope = Scope.CASE_MANAGE

    def post(self, request, case_id):
        case = self.get_case(case_id)
        form = AssignForm(request.POST, organisation=case.organisation)
        if form.is_valid():
            services.case_assign(case=case, investigators=list(form.cleaned_data["investigators"]), actor=request.user)
            messages.success(request, "Assignees updated.")
        else:
            messages.error(request, "Choose members of this organisation.")
        return redirect("cases:detail", case_id=case.public_id)


class CaseLegalHoldView(MemberView, View):
    required_scope = Scope.CASE_MANAGE

    def post(self, request, case_id):
        case = self.get_case(case_id)
        form = LegalHoldForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose to place or lift the hold, and give a reason.")
            return redirect("cases:detail", case_id=case.public_id)
        hold = form.cleaned_data["hold"]
        services.case_legal_hold_set(case=case, hold=hold, reason=form.cleaned_data["reason"], actor=request.user)
        messages.success(
            request,
            f"Case {case.reference} is under legal hold: none of its media will be deleted."
            if hold
            else f"The legal hold on {case.reference} is lifted; the retention policy applies again.",
        )
        return redirect("cases:detail", case_id=case.public_id)


class CaseNoteView(MemberView, View):
    required_scope = Scope.NOTE_ADD

    def post(self, request, case_id):
        case = self.get_case(case_id)
        form = NoteForm(request.POST)
        if not form.is_valid():
            messages.error(request, "A note needs some text (at most 20,000 characters).")
        else:
            try:
                services.case_note_add(case=case, text=form.cleaned_data["text"], actor=request.user)
                messages.success(request, "Note added.")
            except Refused as refusal:
                messages.error(request, refusal.message)
        return redirect("cases:detail", case_id=case.public_id)


class EvidenceItemMixin(MemberView):
    def get_item(self, evidence_id, scope: Scope | None = None) -> EvidenceItem:
        item = get_object_or_404(
            evidence_with_digests(
                EvidenceItem.objects.for_member(self.membership).select_related("case__organisation", "received_by")
            ),
            public_id=evidence_id,
        )
        self.get_case(item.case.public_id, scope)
        return item


class EvidenceDetailView(EvidenceItemMixin, View):
    required_scope = Scope.CASE_READ

    def get(self, request, evidence_id):
        item = self.get_item(evidence_id)
        evidence_view_record(item=item, actor=request.user, via="page")
        return self.render_detail(request, item)

    def render_detail(self, request, item, *, status=200):
        can_download = self.membership.can(Scope.MEDIA_DOWNLOAD, item.case)
        context = {
            "item": item,
            "case": item.case,
            "can_download": can_download and item.media_held,
            "can_export": can_download,
            "can_delete_media": self.membership.can(Scope.MEDIA_DELETE, item.case) and item.media_held,
            "media_delete_form": MediaDeleteForm(),
            "integrity_alarms": item.custody_events.filter(action=Action.INTEGRITY_ALARM).order_by("sequence"),
        }
        return render(request, "cases/evidence_detail.html", context, status=status)


class EvidenceDownloadView(EvidenceDetailView):
    """Serves the original bytes, re-hashed as they stream (see custody.access): a stored copy that no longer
    matches raises an integrity alarm and is never delivered complete."""

    required_scope = Scope.MEDIA_DOWNLOAD

    def get(self, request, evidence_id):
        item = self.get_item(evidence_id)
        if not item.media_held:
            return self.render_detail(request, item, status=410)
        media_download_record(item=item, actor=request.user, via="page")
        try:
            chunks = verified_media_chunks(item=item, actor=request.user)
        except IntegrityAlarm as alarm:
            messages.error(request, str(alarm))
            return self.render_detail(request, item, status=409)
        response = StreamingHttpResponse(chunks, content_type="application/octet-stream")
        response["Content-Length"] = str(item.size)
        response["Content-Disposition"] = content_disposition_header(True, f"{item.public_id}{_suffix(item)}")
        return response


class EvidenceMediaDeleteView(EvidenceDetailView):
    """Delete an item's media now, by hand, with a reason; the item and everything known about it stay."""

    required_scope = Scope.MEDIA_DELETE
    http_method_names = ["post"]

    def post(self, request, evidence_id):
        item = self.get_item(evidence_id)
        form = MediaDeleteForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Give the reason for deleting the media; it is recorded in custody.")
            return redirect("cases:evidence-detail", evidence_id=item.public_id)
        try:
            services.evidence_media_delete(
                item=item, reason=f"deleted by hand: {form.cleaned_data['reason']}", actor=request.user
            )
        except Refused as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(request, "The media of this item is deleted; the tombstone is in the custody ledger.")
        return redirect("cases:evidence-detail", evidence_id=item.public_id)


def _suffix(item: EvidenceItem) -> str:
    return ACCEPTED[item.detected_mime_type].extensions[0]


def home(request):
    return HttpResponseRedirect(reverse("cases:list"))


class MembersView(MemberView, View):
    """Organisation settings for its administrators: who is a member, with which role."""

    required_scope = Scope.ORG_MANAGE

    def get(self, request, form=None, status=200):
        members = self.membership.organisation.memberships.select_related("user").order_by("user__username")
        return render(request, "cases/members.html", {"members": members, "form": form or MemberForm()}, status=status)

    def post(self, request):
        form = MemberForm(request.POST)
        if not form.is_valid():
            return self.get(request, form=form, status=400)
        user, role = form.cleaned_data["username"], form.cleaned_data["role"]
        try:
            services.membership_set(organisation=self.membership.organisation, user=user, role=role, actor=request.user)
        except Refused as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(request, f"{user.username} is now {Role(role).label.lower()}.")
        return redirect("cases:members")


class MemberRemoveView(MemberView, View):
    required_scope = Scope.ORG_MANAGE

    def post(self, request, membership_id):
        membership = get_object_or_404(
            Membership.objects.select_related("user", "organisation"),
            organisation_id=self.membership.organisation_id,
            public_id=membership_id,
        )
        try:
            services.membership_remove(membership=membership, actor=request.user)
        except Refused as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(request, f"{membership.user.username} was removed from {membership.organisation.name}.")
        return redirect("cases:members")


class OrganisationSettingsView(MemberView, View):
    """Organisation settings for its administrators: the kind, and the retention policy for media."""

    required_scope = Scope.ORG_MANAGE

    def get(self, request, form=None, status=200):
        organisation = self.membership.organisation
        form = form or RetentionForm(
            initial={"policy": organisation.retention_policy, "days": organisation.retention_days}
        )
        return render(
            request, "cases/organisation_settings.html", {"organisation": organisation, "form": form}, status=status
        )

    def post(self, request):
        form = RetentionForm(request.POST)
        if not form.is_valid():
            return self.get(request, form=form, status=400)
        organisation = services.organisation_retention_set(
            organisation=self.membership.organisation,
            policy=form.cleaned_data["policy"],
            days=form.cleaned_data["days"],
            actor=request.user,
        )
        messages.success(request, f"Retention: {organisation.retention_summary}.")
        return redirect("cases:organisation-settings")
