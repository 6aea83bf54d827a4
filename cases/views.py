"""Server-rendered pages for cases and evidence. Each view declares its scope; services do the writes."""

import functools
import uuid
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.files.storage import storages
from django.core.paginator import Paginator
from django.db.models import BooleanField, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.expressions import RawSQL
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST

from custody.access import (
    IntegrityAlarm,
    evidence_view_record,
    media_download_record,
    media_view_record,
    verified_media_chunks,
)
from custody.models import Action, CustodyEvent
from custody.timeline import timeline_entries, timeline_rows
from forensics.assessment import FLAGS as ASSESSMENT_FLAGS
from forensics.models import Analysis
from forensics.presentation import assessment_flag_labels, assessment_lines, key_facts
from forensics.rules import ruleset_version
from forensics.services import analysis_queue, reanalysis_useful
from reports.certificates import signing_certificate_attention
from reports.models import Report, ReportStatus

from . import services
from .case_rows import case_rows_html
from .charts import received_chart
from .dashboard_rows import activity_present, in_progress_present, review_present
from .evidence_rows import evidence_rows_present, shortener
from .exceptions import Refused
from .forms import (
    AcquisitionForm,
    AssignForm,
    CaseForm,
    LegalHoldForm,
    MediaDeleteForm,
    NoteForm,
    RetentionForm,
    StatusForm,
)
from .media_types import ACCEPTED
from .models import (
    AnalysisStatus,
    Case,
    CaseStatus,
    EvidenceItem,
    Membership,
    Verdict,
)
from .pagination import id_page
from .previews import (
    PreviewUnavailable,
    preview_get_or_create,
    preview_supported,
    thumbnail_comparison_get_or_create,
)
from .roles import Reach, Scope
from .search import case_search
from .select_options import options_html
from .sizes import size_words
from .tallies import case_tally_counts, tally_counts
from .tenancy import membership_activate
from .upload import uploaded_files
from .views_base import MemberView

IN_PROGRESS = (AnalysisStatus.QUEUED, AnalysisStatus.RUNNING)
# The same as SQL text with the (fixed, never user-given) status codes as literals: the condition of the partial
# index evidence_in_progress, which SQLite uses only where the query's text itself implies it.
_IN_PROGRESS_SQL = RawSQL(
    '"cases_evidenceitem"."analysis_status" IN ({})'.format(", ".join(f"'{status}'" for status in IN_PROGRESS)),
    [],
    output_field=BooleanField(),
)
# A shorter hex prefix matches too much to be a search for one file, and reads like a reference or a word.
MIN_HASH_PREFIX = 6
# How many of the ledger's latest entries the dashboard's activity walks, checking each against a member's cases,
# before it reads their cases' entries instead (recent_activity).
ACTIVITY_WINDOW = 1000


def assessment_is(flag: str, *, through: str = "") -> Q:
    """Items (or, `through` "evidence__", cases' items) whose stored assessment has the answer `flag` names
    (forensics.assessment.FLAGS: "ai_declared", "edited", "signature_broken", "metadata_removed")."""
    aspect, state = ASSESSMENT_FLAGS[flag]
    return Q(**{f"{through}assessment__{aspect}__state": state})


def case_list_rows(ids: list[int]) -> list[Case]:
    """What the case list shows of the cases `ids` (already chosen for the member), newest first: their columns,
    creator's name (`created_by_username`), number of items and numbers of items per assessment flag."""
    return list(_case_list_rows().filter(pk__in=ids))


@functools.cache
def _case_list_rows() -> QuerySet:
    # Made once a process, each page filtering a copy of it: resolving the five counts took Django some 0.8 ms a
    # page. Never evaluated itself.
    flag_counts = {
        flag: Count("evidence", filter=assessment_is(flag, through="evidence__")) for flag in ASSESSMENT_FLAGS
    }
    return (
        # The creator's name alone, not the creator: a user made for each row took Django some 0.3 ms a page.
        Case.objects.annotate(
            item_count=Count("evidence"), created_by_username=F("created_by__username"), **flag_counts
        )
        # What the rows show: a case's description is read, sent and kept for nothing.
        .only("public_id", "reference", "title", "status", "created_at")
        .order_by("-created_at", "-id")
    )


def custody_events_for(membership: Membership, *, action: str = ""):
    """The ledger entries this member may read (of this `action` only, if given): the whole organisation's with
    custody:read on every case, only those of the cases they are involved in with an involved reach, none without
    custody:read.

    With an involved reach, each entry is checked against the member's cases, so that the organisation's indexes
    are read in their order: for one action the (organisation, action) index, for the newest entries the sequence
    (recent_activity). Matched against the list of the member's cases, SQLite read every entry of those cases
    through the case index, then counted or sorted them: an investigator's integrity alarms, all 10,000 entries of
    their cases (17-27 ms; now 1-2 ms), and their dashboard's dozen newest entries (35-53 ms; now under 1 ms)."""
    events = CustodyEvent.objects.filter(organisation_id=membership.organisation_id)
    if action:
        events = events.filter(action=action)
    reach = membership.reach(Scope.CUSTODY_READ)
    if reach is Reach.ALL:
        return events
    if reach is Reach.INVOLVED:
        involved = Case.objects.filter(organisation_id=membership.organisation_id).involving(membership.user_id)
        return events.filter(Exists(involved.filter(pk=OuterRef("case_id"))))
    return events.none()


@login_required
@require_POST
def organisation_switch(request):
    membership = get_object_or_404(
        Membership.objects.select_related("organisation"),
        user=request.user,
        organisation__slug=request.POST.get("slug"),
    )
    membership_activate(request, membership)
    messages.info(
        request, _("You are now working in %(organisation)s.") % {"organisation": membership.organisation.name}
    )
    return redirect("cases:list")


class CaseListView(MemberView, View):
    required_scope = Scope.CASE_READ
    page_size = 25

    def get(self, request):
        organisation_id = self.membership.organisation_id
        cases = Case.objects.for_member(self.membership).order_by("-created_at", "-id")
        query = request.GET.get("q", "").strip()
        if query:
            cases = cases.filter(case_search(query, organisation_id, min_hash_prefix=MIN_HASH_PREFIX))
        status = request.GET.get("status", "")
        if status in CaseStatus.values:
            cases = cases.filter(status=status)
        verdict = request.GET.get("verdict", "")
        if verdict in Verdict.values:
            cases = cases.filter(Exists(EvidenceItem.objects.filter(case=OuterRef("pk"), verdict=verdict)))
        flag = request.GET.get("assessment", "")
        if flag in ASSESSMENT_FLAGS:
            cases = cases.filter(Exists(EvidenceItem.objects.filter(assessment_is(flag), case=OuterRef("pk"))))
        assignee = request.GET.get("assignee", "")
        if assignee:
            cases = cases.filter(assignees__username=assignee)
        # Counted and sliced without the item counts, which are then computed for the page's rows only.
        if query:
            page = id_page(cases, self.page_size, request.GET.get("page"))
        else:
            page = Paginator(cases.values_list("pk", flat=True), self.page_size).get_page(request.GET.get("page"))
        rows = case_list_rows(list(page.object_list))
        usernames = (
            get_user_model()
            .objects.filter(memberships__organisation_id=organisation_id)
            .order_by("username")
            .values_list("username", flat=True)
        )
        filters = {"q": query, "status": status, "verdict": verdict, "assessment": flag, "assignee": assignee}
        return render(
            request,
            "cases/case_list.html",
            {
                "page": page,
                "rows": rows,
                "rows_html": case_rows_html(rows),
                "query": query,
                "status_options": options_html(CaseStatus.choices, status),
                "verdict_options": options_html(Verdict.choices, verdict),
                "assessment_options": options_html(assessment_flag_labels().items(), flag),
                "assignee_options": options_html(((name, name) for name in usernames), assignee),
                "filtered": any(filters.values()),
                "filter_query": urlencode({key: value for key, value in filters.items() if value}),
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
        messages.success(request, _("Case %(reference)s created.") % {"reference": case.reference})
        return redirect("cases:detail", case_id=case.public_id)


class CaseDetailView(MemberView, View):
    required_scope = Scope.CASE_READ
    # Evidence rows per page: a case of hundreds of items opens as fast as a small one.
    items_per_page = 100

    def get(self, request, case_id):
        case = self.case
        return self.render_detail(request, case)

    def render_detail(self, request, case, *, status=200, upload_error=None, acquisition_form=None):
        # The rows' digests and reports are read for the page's rows only, by cases.evidence_rows.
        items_page = Paginator(case.evidence.order_by("received_at", "id"), self.items_per_page).get_page(
            request.GET.get("page")
        )
        rows = list(items_page.object_list)
        evidence_rows_present(rows)
        membership = self.membership
        context = {
            "case": case,
            # What {{ case.public_id|truncatechars:9 }} showed in each row.
            "case_id_shown": shortener()(str(case.public_id), 9),
            "items": rows,
            "items_page": items_page,
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
            "upload_api_url": reverse("api:case-evidence", kwargs={"case_id": case.public_id}),
            "verdict_labels": dict(Verdict.choices),
        }
        return render(request, "cases/case_detail.html", context, status=status)


class EvidenceUploadView(CaseDetailView):
    required_scope = Scope.EVIDENCE_UPLOAD

    def post(self, request, case_id):
        case = self.case
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
            message = _("Received %(filename)s (SHA-256 %(sha256)s…).") % {
                "filename": receipt.item.original_filename,
                "sha256": receipt.item.sha256[:16],
            }
            if receipt.duplicate_of:
                message += " " + receipt.item.duplicate_message(self.membership)
            messages.success(request, message)
        if refused:
            return self.render_detail(
                request, case, status=415 if len(refused) == len(files) else 200, upload_error=" ".join(refused)
            )
        return redirect("cases:detail", case_id=case.public_id)


class CaseStatusView(MemberView, View):
    required_scope = Scope.CASE_MANAGE

    def post(self, request, case_id):
        case = self.case
        form = StatusForm(request.POST)
        if form.is_valid():
            services.case_status_change(case=case, status=form.cleaned_data["status"], actor=request.user)
            messages.success(
                request,
                _("Case %(reference)s is now %(status)s.")
                % {"reference": case.reference, "status": case.get_status_display().lower()},
            )
        else:
            messages.error(request, _("Choose one of the listed statuses."))
        return redirect("cases:detail", case_id=case.public_id)


class CaseAssignView(MemberView, View):
    required_scope = Scope.CASE_MANAGE

    def post(self, request, case_id):
        case = self.case
        form = AssignForm(request.POST, organisation=case.organisation)
        if form.is_valid():
            services.case_assign(case=case, investigators=list(form.cleaned_data["investigators"]), actor=request.user)
            messages.success(request, _("Assignees updated."))
        else:
            messages.error(request, _("Choose members of this organisation."))
        return redirect("cases:detail", case_id=case.public_id)


class CaseLegalHoldView(MemberView, View):
    required_scope = Scope.CASE_MANAGE

    def post(self, request, case_id):
        case = self.case
        form = LegalHoldForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose to place or lift the hold, and give a reason."))
            return redirect("cases:detail", case_id=case.public_id)
        hold = form.cleaned_data["hold"]
        services.case_legal_hold_set(case=case, hold=hold, reason=form.cleaned_data["reason"], actor=request.user)
        messages.success(
            request,
            (
                _("Case %(reference)s is under legal hold: none of its media will be deleted.")
                if hold
                else _("The legal hold on %(reference)s is lifted; the retention policy applies again.")
            )
            % {"reference": case.reference},
        )
        return redirect("cases:detail", case_id=case.public_id)


class CaseNoteView(MemberView, View):
    required_scope = Scope.NOTE_ADD

    def post(self, request, case_id):
        case = self.case
        form = NoteForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("A note needs some text (at most 20,000 characters)."))
        else:
            try:
                services.case_note_add(case=case, text=form.cleaned_data["text"], actor=request.user)
                messages.success(request, _("Note added."))
            except Refused as refusal:
                messages.error(request, refusal.message)
        return redirect("cases:detail", case_id=case.public_id)


class EvidenceDetailView(MemberView, View):
    required_scope = Scope.CASE_READ

    def get(self, request, evidence_id):
        item = self.evidence
        evidence_view_record(item=item, actor=request.user, via="page")
        return self.render_detail(request, item)

    timeline_shown = 50

    def render_detail(self, request, item, *, status=200):
        can_download = self.membership.can(Scope.MEDIA_DOWNLOAD, item.case)
        can_read_custody = self.membership.can(Scope.CUSTODY_READ, item.case)
        may_delete_media = self.membership.can(Scope.MEDIA_DELETE, item.case) and item.media_held
        # Why deleting would be refused now (legal hold, analysis not done): said instead of offering the form.
        media_delete_refusal = services.media_deletion_refusal(item) if may_delete_media else None
        timeline = []
        if can_read_custody:
            latest = timeline_rows(item.custody_events.order_by("-sequence"))[: self.timeline_shown]
            timeline = timeline_entries(list(latest)[::-1], show_evidence=False)
        # With the number of the item's analyses (this one included) for the panel's "earlier analyses kept".
        analysis = (
            Analysis.objects.filter(evidence=item)
            .annotate(analyses=Window(Count("id")))
            .order_by("-queued_at", "-id")
            .first()
        )
        context = {
            "item": item,
            "case": item.case,
            "analysis": analysis,
            "key_facts": key_facts(analysis.result) if analysis and analysis.status == AnalysisStatus.DONE else [],
            "can_download": can_download and item.media_held,
            "can_export": can_download,
            "can_delete_media": may_delete_media and media_delete_refusal is None,
            # The earlier item with the same bytes, named and linked when the member may open its case.
            "duplicate_earlier": item.duplicate_shown_to(self.membership),
            "can_reanalyse": item.media_held
            and self.membership.can(Scope.EVIDENCE_UPLOAD, item.case)
            and reanalysis_useful(analysis),
            "media_delete_refusal": media_delete_refusal,
            "size_words": size_words(item.size),
            "media_delete_form": MediaDeleteForm(),
            # The page tells of the latest alarm only.
            "integrity_alarm": item.custody_events.filter(action=Action.INTEGRITY_ALARM)
            .order_by("-sequence")
            .only("recorded_at", "sequence", "details")
            .first(),
            # "image" or "video" when the page shows a preview (a thumbnail or a poster frame), else None.
            "preview": ACCEPTED[item.detected_mime_type].kind if item.media_held and preview_supported(item) else None,
            "can_read_custody": can_read_custody,
            "timeline": timeline,
            "timeline_shown": self.timeline_shown,
        }
        return render(request, "cases/evidence_detail.html", context, status=status)


class DerivedImageView(MemberView, View):
    """A picture made on the server from the media, never the original bytes.

    Seeing the picture is seeing the media, so each time it is served a `media.viewed` event is recorded, and the
    response may not be cached: a view the ledger does not know of would be a gap in the custody record."""

    required_scope = Scope.CASE_READ
    via: str
    content_type: str
    filename: str  # formatted with the item's public id

    def derived_key(self, item, actor) -> str:
        raise NotImplementedError

    def get(self, request, evidence_id):
        item = self.evidence
        if not item.media_held:
            raise Http404(_("The media of this item was deleted."))
        try:
            key = self.derived_key(item, request.user)
        except PreviewUnavailable as reason:
            return HttpResponse(str(reason), status=reason.status_code, content_type="text/plain; charset=utf-8")
        media_view_record(item=item, actor=request.user, via=self.via)
        response = FileResponse(storages["derived"].open(key, "rb"), content_type=self.content_type)
        response["Cache-Control"] = "private, no-store"
        response["Content-Disposition"] = content_disposition_header(False, self.filename.format(item.public_id))
        return response


class EvidencePreviewView(DerivedImageView):
    """A small JPEG of the media (image thumbnail or video poster frame)."""

    via, content_type, filename = "preview", "image/jpeg", "preview-{}.jpg"

    def derived_key(self, item, actor) -> str:
        return preview_get_or_create(item, actor=actor)


class EvidenceThumbnailComparisonView(DerivedImageView):
    """The EXIF thumbnail beside the main image scaled to it and their amplified difference (a PNG), for the
    EM-THUMB findings."""

    via, content_type, filename = "thumbnail comparison", "image/png", "thumbnail-comparison-{}.png"

    def derived_key(self, item, actor) -> str:
        return thumbnail_comparison_get_or_create(item, actor=actor)


class EvidenceDownloadView(EvidenceDetailView):
    """Serves the original bytes, re-hashed as they stream (see custody.access): a stored copy that no longer
    matches raises an integrity alarm and is never delivered complete."""

    required_scope = Scope.MEDIA_DOWNLOAD

    def get(self, request, evidence_id):
        item = self.evidence
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
        item = self.evidence
        form = MediaDeleteForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Give the reason for deleting the media; it is recorded in custody."))
            return redirect("cases:evidence-detail", evidence_id=item.public_id)
        try:
            services.evidence_media_delete(
                item=item, reason=f"deleted by hand: {form.cleaned_data['reason']}", actor=request.user
            )
        except Refused as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(request, _("The media of this item is deleted; the tombstone is in the custody ledger."))
        return redirect("cases:evidence-detail", evidence_id=item.public_id)


class EvidenceAnalyseView(MemberView, View):
    """Analyse an item again (after a failure, or under a newer rule set); its earlier analyses are kept."""

    required_scope = Scope.EVIDENCE_UPLOAD
    http_method_names = ["post"]

    def post(self, request, evidence_id):
        item = self.evidence
        try:
            analysis_queue(item=item, reason="reanalysis", actor=request.user)
        except Refused as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(
                request,
                _("The item is queued for analysis with rule set %(version)s; earlier analyses are kept.")
                % {"version": ruleset_version()},
            )
        return redirect("cases:evidence-detail", evidence_id=item.public_id)


def _suffix(item: EvidenceItem) -> str:
    return ACCEPTED[item.detected_mime_type].extensions[0]


def home(request):
    return HttpResponseRedirect(reverse("cases:dashboard"))


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links to: send them to the static file."""
    return HttpResponseRedirect(static("favicon.ico"))


class DashboardView(MemberView, View):
    """The first page after logging in: what needs attention in the organisation, within what the member sees."""

    required_scope = Scope.CASE_READ
    chart_days = 30
    activity_shown = 12
    review_shown = 10

    def get(self, request):
        membership = self.membership
        by_status = dict.fromkeys(AnalysisStatus.values, 0)
        by_verdict = dict.fromkeys(Verdict.values, 0)
        by_flag = dict.fromkeys(ASSESSMENT_FLAGS, 0)
        if membership.reach(Scope.CASE_READ) is Reach.ALL:
            # Every item of the organisation: its tallies, kept by the services, instead of reading every item.
            counts = tally_counts(membership.organisation_id)
        else:
            # The items of the cases this member sees: those cases' tallies.
            counts = case_tally_counts(Case.objects.for_member(membership))
        for (_day, status, verdict, *flags), count in counts.items():
            by_status[status] += count
            if verdict:
                by_verdict[verdict] += count
            for flag, answered in zip(ASSESSMENT_FLAGS, flags, strict=True):
                by_flag[flag] += count if answered else 0
        received = received_by_day(counts, days=self.chart_days)
        alarms = custody_events_for(membership, action=Action.INTEGRITY_ALARM)
        review = Case.objects.for_member(membership).filter(status=CaseStatus.UNDER_REVIEW)
        in_progress = in_progress_items(membership)
        in_progress_present(in_progress)
        activity = recent_activity(membership, self.activity_shown)
        activity_present(activity)
        review_cases = list(review.select_related("created_by").order_by("-updated_at", "-id")[: self.review_shown])
        review_present(review_cases)
        latest_alarm = alarms.select_related("case", "evidence").order_by("-sequence").first()
        context = {
            "by_status": [(AnalysisStatus(key).label, key, n) for key, n in by_status.items()],
            "by_verdict": [(Verdict(key).label, key, n) for key, n in by_verdict.items()],
            "by_assessment": [(label, flag, by_flag[flag]) for flag, label in assessment_flag_labels().items()],
            "item_total": sum(by_status.values()),
            "in_progress": in_progress,
            "chart": received_chart(received, today=timezone.now().date(), days=self.chart_days),
            "activity": activity,
            "review_cases": review_cases,
            # Counted only when there are more than the page lists: a short list is all of them.
            "review_count": review.count() if len(review_cases) == self.review_shown else len(review_cases),
            "alarm_count": alarms.count() if latest_alarm else 0,
            "latest_alarm": latest_alarm,
            "live_url": reverse("cases:live-status"),
            # Administrators are told before reports stop being signed, not when the first one fails.
            "certificate_attention": signing_certificate_attention(membership.organisation)
            if membership.has_scope(Scope.ORG_MANAGE)
            else None,
        }
        return render(request, "cases/dashboard.html", context)


def received_by_day(counts: Counter, *, days: int) -> dict[tuple, int]:
    """{(day, verdict): items received that UTC day with that verdict} over the last `days` days, from tallies
    (cases.tallies)."""
    first = timezone.now().date() - timedelta(days=days - 1)
    received: Counter = Counter()
    for (day, _status, verdict, *_flags), count in counts.items():
        if day >= first:
            received[day, verdict] += count
    return dict(received)


def recent_activity(membership: Membership, shown: int) -> list[CustodyEvent]:
    """The newest `shown` ledger entries the member may read, with their case and item, views left out: recorded on
    every page visit, they would crowd out everything else (the custody pages list them).

    Newest first by sequence, which within one organisation's chain is the order of recording and is indexed, so
    that the query stops after a dozen entries instead of sorting the whole ledger. With an involved reach each
    entry is checked against the member's cases (custody_events_for) as the sequence is walked; so that a member
    whose cases are quiet does not walk the whole ledger, only its latest ACTIVITY_WINDOW entries are walked so.
    With fewer than `shown` of theirs there, their cases' entries are read through the case index and sorted."""
    events = (
        custody_events_for(membership)
        .exclude(action__in=[Action.EVIDENCE_VIEWED, Action.MEDIA_VIEWED])
        .select_related("case", "evidence")
        # What the lines show (cases.dashboard_rows.activity_present): the entries' hashes, signatures and details
        # and the rest of their cases' and items' rows are not read.
        .only(
            "sequence",
            "recorded_at",
            "action",
            "actor_label",
            "case__public_id",
            "case__reference",
            "evidence__public_id",
            "evidence__original_filename",
        )
        .order_by("-sequence")
    )
    if membership.reach(Scope.CUSTODY_READ) is not Reach.INVOLVED:
        return list(events[:shown])
    ledger = CustodyEvent.objects.filter(organisation_id=membership.organisation_id)
    latest = Subquery(ledger.order_by("-sequence").values("sequence")[:1])
    recent = list(events.filter(sequence__gt=latest - ACTIVITY_WINDOW)[:shown])
    if len(recent) == shown:
        return recent
    # The same cases as custody_events_for's check, named as a list too, so that the planner reads them by case.
    involved = Case.objects.filter(organisation_id=membership.organisation_id).involving(membership.user_id)
    return list(events.filter(case__in=involved.values("pk"))[:shown])


def in_progress_items(membership: Membership) -> list[EvidenceItem]:
    """The visible items whose analysis is queued or running, oldest first (the next to finish)."""
    # Joined to the organisation's cases rather than matched against the list of them, and with the statuses as
    # literals (bound parameters never imply a partial index's condition), so that the planner reads the
    # in-progress index in its order; otherwise it reads every item of every case, then sorts.
    items = EvidenceItem.objects.filter(case__organisation_id=membership.organisation_id)
    if membership.reach(Scope.CASE_READ) is not Reach.ALL:
        # Each in-progress item checked against the member's cases, for the same reason: matched against the list
        # of them, every item of the member's cases was read, then sorted.
        items = items.filter(Exists(Case.objects.for_member(membership).filter(pk=OuterRef("case_id"))))
    return list(items.filter(_IN_PROGRESS_SQL).select_related("case").order_by("received_at", "id")[:20])


def _uuid_list(text: str, limit: int) -> list[uuid.UUID]:
    ids = []
    for part in text.split(",")[:limit]:
        try:
            ids.append(uuid.UUID(part.strip()))
        except ValueError:
            continue  # a stale or mangled id in a page is simply not reported on
    return ids


class LiveStatusView(MemberView, View):
    """JSON polled by the pages while work runs: analyses in progress, and the state of the items and reports a
    page asks about (`?items=<id>,<id>&reports=<id>`). Ids the member may not see are left out, as if missing."""

    required_scope = Scope.CASE_READ
    max_ids = 200

    def get(self, request):
        membership = self.membership
        item_ids = _uuid_list(request.GET.get("items", ""), self.max_ids)
        report_ids = _uuid_list(request.GET.get("reports", ""), self.max_ids)
        items = EvidenceItem.objects.for_member(membership).filter(public_id__in=item_ids) if item_ids else []
        reports = Report.objects.for_member(membership).filter(public_id__in=report_ids) if report_ids else []
        body = {
            "in_progress": [
                {
                    "id": str(item.public_id),
                    "filename": item.original_filename,
                    "case": item.case.reference,
                    "status": item.analysis_status,
                    "status_label": item.get_analysis_status_display(),
                    "url": reverse("cases:evidence-detail", kwargs={"evidence_id": item.public_id}),
                }
                for item in in_progress_items(membership)
            ],
            "items": {
                str(item.public_id): {
                    "status": item.analysis_status,
                    "status_label": item.get_analysis_status_display(),
                    "verdict": item.verdict,
                    "verdict_label": item.get_verdict_display() if item.verdict else "",
                    "badges": [
                        {"text": line.short, "tone": line.tone, "aspect": line.aspect}
                        for line in assessment_lines(item.assessment)
                        if line.short
                    ],
                }
                for item in items
            },
            "reports": {
                str(report.public_id): {
                    "status": report.status,
                    "status_label": report.get_status_display(),
                    "download_url": reverse("reports:download", kwargs={"report_id": report.public_id})
                    if report.status == ReportStatus.DONE
                    else None,
                    "error": report.error,
                }
                for report in reports
            },
        }
        response = JsonResponse(body)
        response["Cache-Control"] = "no-store"
        return response


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
        messages.success(request, _("Retention: %(policy)s.") % {"policy": organisation.retention_summary})
        return redirect("cases:organisation-settings")
