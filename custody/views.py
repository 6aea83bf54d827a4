"""Server-rendered custody pages: the organisation's audit page (chain status, last checkpoint, cases awaiting
review, sign-offs) and each case's custody timeline."""

import tempfile
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from cases.exceptions import Refused
from cases.models import Case, CaseStatus, EvidenceItem
from cases.roles import Reach, Scope
from cases.views_base import MemberView
from encryption.plaintext import plaintext_directory

from .exports import export_create
from .fixity import open_fixity_alarms
from .forms import SignOffForm
from .models import Action, Checkpoint, CustodyEvent, ReviewSignOff, Witness
from .reviews import review_sign_off
from .timeline import timeline_entries, timeline_rows
from .timestamps import timestamp_status
from .verification import custody_verification_run


class OrganisationWideScope:
    """Pages about the whole organisation's ledger need custody:read on every case, not only on some of them.

    Sits after MemberView in the bases, so the membership is resolved before this runs."""

    def dispatch(self, request, *args, **kwargs):
        if self.membership.reach(Scope.CUSTODY_READ) is not Reach.ALL:
            raise PermissionDenied(_("The custody audit needs custody access to every case of the organisation."))
        return super().dispatch(request, *args, **kwargs)


def _latest_checkpoint(organisation) -> Checkpoint | None:
    return Checkpoint.objects.filter(organisation=organisation).order_by("-tree_size", "-made_at").first()


class AuditView(MemberView, OrganisationWideScope, View):
    required_scope = Scope.CUSTODY_READ
    page_size = 25

    def get(self, request):
        organisation = self.membership.organisation
        events = CustodyEvent.objects.filter(organisation=organisation)
        cases = (
            Case.objects.for_member(self.membership)
            .annotate(event_count=Count("custody_events"), last_event=Max("custody_events__recorded_at"))
            .order_by("-created_at", "-id")
        )
        checkpoint = _latest_checkpoint(organisation)
        context = {
            "organisation": organisation,
            "ledger_size": events.count(),
            "last_verification": events.filter(action=Action.CUSTODY_VERIFIED).order_by("-sequence").first(),
            "checkpoint": checkpoint,
            "cosignatures": checkpoint.cosignatures.select_related("witness") if checkpoint else [],
            "witnesses": Witness.objects.filter(organisation=organisation),
            "awaiting": cases.filter(status=CaseStatus.UNDER_REVIEW).annotate(
                last_sign_off=Max("review_sign_offs__signed_at")
            ),
            "sign_offs": ReviewSignOff.objects.filter(organisation=organisation)
            .select_related("case", "signed_by")
            .order_by("-signed_at")[:20],
            "page": Paginator(cases, self.page_size).get_page(request.GET.get("page")),
            "fixity_alarms": open_fixity_alarms(organisation),
            "timestamps": timestamp_status(organisation),
            "integrity_alarms": events.filter(action=Action.INTEGRITY_ALARM)
            .select_related("case", "evidence")
            .order_by("-sequence")[: self.page_size],
        }
        return render(request, "custody/audit.html", context)


class VerifyNowView(MemberView, OrganisationWideScope, View):
    required_scope = Scope.CUSTODY_READ

    def post(self, request):
        verification, event = custody_verification_run(
            organisation=self.membership.organisation, via="page", actor=request.user
        )
        report = messages.success if verification.ok else messages.error
        report(
            request,
            _("%(summary)s Recorded as ledger entry %(sequence)s.")
            % {"summary": verification.summary(), "sequence": event.sequence},
        )
        return redirect("custody:audit")


class CaseCustodyView(MemberView, View):
    """The custody timeline of one case: every ledger entry about it or its evidence as a sentence with its key
    facts and the signed entry behind a toggle, filtered by action and actor, a page at a time; the review
    sign-off form first for those who may sign off."""

    required_scope = Scope.CUSTODY_READ
    page_size = 50

    def get(self, request, case_id, form=None, status=200):
        case = self.case
        events = CustodyEvent.objects.filter(case=case)
        action = request.GET.get("action", "")
        actor = request.GET.get("actor", "")
        shown = events.filter(**{key: value for key, value in (("action", action), ("actor_label", actor)) if value})
        page = Paginator(timeline_rows(shown.order_by("sequence")), self.page_size).get_page(request.GET.get("page"))
        present = set(events.values_list("action", flat=True).distinct())
        filters = {"action": action, "actor": actor}
        context = {
            "case": case,
            "page": page,
            "entries": timeline_entries(page.object_list, show_evidence=True),
            "entry_count": events.count(),
            "actions": [(value, label) for value, label in Action.choices if value in present],
            "actors": sorted(events.values_list("actor_label", flat=True).distinct()),
            "action": action,
            "actor": actor,
            "filtered": bool(action or actor),
            "filter_query": urlencode({key: value for key, value in filters.items() if value}),
            "sign_offs": case.review_sign_offs.select_related("signed_by", "event").order_by("signed_at"),
            "checkpoint": _latest_checkpoint(case.organisation),
            "can_sign_off": self.membership.can(Scope.CASE_MANAGE, case) and case.status == CaseStatus.UNDER_REVIEW,
            "form": form or SignOffForm(),
        }
        return render(request, "custody/case_custody.html", context, status=status)


class SignOffView(CaseCustodyView):
    required_scope = Scope.CASE_MANAGE
    # The timeline is at its own address; this one only takes the form (and re-renders it when invalid).
    http_method_names = ["post"]

    def post(self, request, case_id):
        case = self.case
        form = SignOffForm(request.POST)
        if not form.is_valid():
            return self.get(request, case_id, form=form, status=400)
        try:
            sign_off = review_sign_off(case=case, comment=form.cleaned_data["comment"], actor=request.user)
        except Refused as refusal:
            messages.error(request, refusal.message)
        else:
            entry = sign_off.event.sequence
            messages.success(
                request,
                _("Review of %(reference)s signed off (ledger entry %(sequence)s); the case is now reviewed.")
                % {"reference": case.reference, "sequence": entry},
            )
        return redirect("custody:case", case_id=case.public_id)


def sealed_export_response(*, case: Case, item: EvidenceItem | None, actor) -> FileResponse:
    """Build the sealed export into a spool file (a zip needs its whole content before it can be sent) and
    answer with it as a download; the page and the API both serve exports through this. The zip holds decrypted
    media, so it is spooled, unnamed, in the private plaintext directory (a tmpfs where one is configured)."""
    spool = tempfile.TemporaryFile(dir=plaintext_directory(), suffix=".zip")  # noqa: SIM115 FileResponse closes it
    try:
        sealed = export_create(case=case, item=item, destination=spool, actor=actor)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=sealed.filename, content_type="application/zip")


class CaseExportView(MemberView, View):
    """A sealed zip of the case for whoever may download its media; recorded as `export.created`."""

    required_scope = Scope.MEDIA_DOWNLOAD

    def get(self, request, case_id):
        case = self.case
        try:
            return sealed_export_response(case=case, item=None, actor=request.user)
        except Refused as refusal:
            messages.error(request, refusal.message)
            return redirect("cases:detail", case_id=case.public_id)


class EvidenceExportView(MemberView, View):
    required_scope = Scope.MEDIA_DOWNLOAD

    def get(self, request, evidence_id):
        item = self.evidence
        try:
            return sealed_export_response(case=item.case, item=item, actor=request.user)
        except Refused as refusal:
            messages.error(request, refusal.message)
            return redirect("cases:evidence-detail", evidence_id=item.public_id)
