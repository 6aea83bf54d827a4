"""Tenancy fails closed: every route that takes an id answers a foreign organisation's id with 404 and changes
nothing, exactly as for a missing id. A route added without a case here fails the enumeration test."""

import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases import services
from cases.models import ApiToken, Case, CaseNote, EvidenceItem, Invitation, Membership
from cases.tenancy import memberships_of
from custody.models import CustodyEvent
from forensics.models import Analysis
from reports.models import Report
from tests.conftest import PASSWORD, jpeg_bytes, received


def _id_routes(patterns=None, namespace="", prefix=""):
    """Yield 'namespace:name' for every URL pattern whose path carries an id, outside the Django admin."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # staff-only; its organisation scoping is tested in test_admin.py
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _id_routes(entry.url_patterns, inner, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and entry.name:
            route = prefix + str(entry.pattern)
            if "<uuid:" in route or "_id>" in route:
                yield f"{namespace}{entry.name}"


def _beta_ids(beta):
    item = services.evidence_receive(case=beta.case, received=received(jpeg_bytes()), actor=beta.investigator).item
    membership = Membership.objects.get(organisation=beta.organisation, user=beta.auditor)
    invitation = services.invitation_send(
        organisation=beta.organisation, username="someone-else", role="auditor", actor=beta.admin
    )
    token, _secret = services.api_token_create(user=beta.auditor, name="beta's", organisation=beta.organisation)
    return {
        "token_id": token.pk,
        "invitation_id": invitation.public_id,
        "case_id": beta.case.public_id,
        "evidence_id": item.public_id,
        "membership_id": membership.public_id,
        "analysis_id": Analysis.objects.get(evidence=item).public_id,
        # Made directly: a report is requested only once the analysis is done, which no task has run here.
        "report_id": Report.objects.create(
            kind="evidence", case=beta.case, evidence=item, requested_by=beta.investigator
        ).public_id,
    }


def _missing_id(kwarg: str):
    return 2**31 - 1 if kwarg == "token_id" else uuid.uuid4()  # token ids are integers, the others UUIDs


def _upload():
    return {"files": [SimpleUploadedFile("foreign.jpg", jpeg_bytes(colour=(1, 2, 3)), content_type="image/jpeg")]}


# route name -> (method, url kwargs used, form or JSON data factory)
FOREIGN_REQUESTS = {
    "cases:detail": ("get", ["case_id"], None),
    "cases:upload": ("post", ["case_id"], _upload),
    "cases:status": ("post", ["case_id"], lambda: {"status": "closed"}),
    "cases:assign": ("post", ["case_id"], lambda: {"investigators": []}),
    "cases:note": ("post", ["case_id"], lambda: {"text": "foreign note"}),
    "cases:evidence-detail": ("get", ["evidence_id"], None),
    "cases:evidence-download": ("get", ["evidence_id"], None),
    "cases:evidence-preview": ("get", ["evidence_id"], None),
    "cases:evidence-thumbnail-comparison": ("get", ["evidence_id"], None),
    "cases:member-remove": ("post", ["membership_id"], None),
    "cases:member-deactivate": ("post", ["membership_id"], None),
    "cases:member-reactivate": ("post", ["membership_id"], None),
    "cases:member-password-reset": ("post", ["membership_id"], None),
    "api:member-deactivate": ("post", ["membership_id"], None),
    "api:member-reactivate": ("post", ["membership_id"], None),
    "api:member-password-reset": ("post", ["membership_id"], None),
    "account-token-rename": ("post", ["token_id"], lambda: {"name": "taken"}),
    "account-token-revoke": ("post", ["token_id"], None),
    "cases:invitation-revoke": ("post", ["invitation_id"], None),
    "cases:invitation-accept": ("post", ["invitation_id"], None),
    "cases:invitation-decline": ("post", ["invitation_id"], None),
    "api:invitation-revoke": ("post", ["invitation_id"], None),
    "api:account-invitation-accept": ("post", ["invitation_id"], None),
    "api:account-invitation-decline": ("post", ["invitation_id"], None),
    "api:case-detail": ("get", ["case_id"], None),
    "api:case-set-status": ("post", ["case_id"], lambda: {"status": "closed"}),
    "api:case-evidence": ("post", ["case_id"], _upload),
    "api:evidence-detail": ("get", ["evidence_id"], None),
    "api:member-detail": ("delete", ["membership_id"], None),
    "api:custody-case-events": ("get", ["case_id"], None),
    "api:custody-evidence-events": ("get", ["evidence_id"], None),
    "api:custody-evidence-bundle": ("get", ["evidence_id"], None),
    "custody:case": ("get", ["case_id"], None),
    "custody:sign-off": ("post", ["case_id"], lambda: {"comment": "foreign sign-off"}),
    "api:evidence-analyses": ("post", ["evidence_id"], None),
    "api:analysis-detail": ("get", ["analysis_id"], None),
    "reports:evidence-create": ("post", ["evidence_id"], None),
    "reports:case-create": ("post", ["case_id"], None),
    "reports:download": ("get", ["report_id"], None),
    "api:evidence-reports": ("post", ["evidence_id"], None),
    "api:case-reports": ("post", ["case_id"], None),
    "api:report-detail": ("get", ["report_id"], None),
    "api:report-download": ("get", ["report_id"], None),
    "cases:legal-hold": ("post", ["case_id"], lambda: {"hold": "on", "reason": "foreign hold"}),
    "cases:evidence-delete-media": ("post", ["evidence_id"], lambda: {"reason": "foreign deletion"}),
    "cases:evidence-analyse": ("post", ["evidence_id"], None),
    "api:case-legal-hold": ("post", ["case_id"], lambda: {"hold": True, "reason": "foreign hold"}),
    "api:evidence-delete-media": ("post", ["evidence_id"], lambda: {"reason": "foreign deletion"}),
    "custody:case-export": ("get", ["case_id"], None),
    "custody:evidence-export": ("get", ["evidence_id"], None),
    "api:custody-case-export": ("get", ["case_id"], None),
    "api:custody-evidence-export": ("get", ["evidence_id"], None),
    "api:case-assign": ("post", ["case_id"], lambda: {"usernames": []}),
    "api:case-notes": ("post", ["case_id"], lambda: {"text": "foreign note"}),
    "api:evidence-download": ("get", ["evidence_id"], None),
    "api:evidence-findings": ("get", ["evidence_id"], None),
    "api:evidence-metadata": ("get", ["evidence_id"], None),
    "cases:api-token-revoke": ("post", ["token_id"], None),
    "api:api-token-detail": ("delete", ["token_id"], None),
}


def _snapshot(tenant):
    case = Case.objects.get(pk=tenant.case.pk)
    return {
        "case": (
            case.title,
            case.status,
            case.legal_hold,
            case.updated_at,
            tuple(case.assignees.values_list("pk", flat=True)),
        ),
        "items": tuple(EvidenceItem.objects.in_organisation(tenant.organisation).values_list("pk", "media_deleted_at")),
        "ledger": CustodyEvent.objects.filter(organisation=tenant.organisation).count(),
        "notes": CaseNote.objects.filter(case__organisation=tenant.organisation).count(),
        "members": tuple(Membership.objects.filter(organisation=tenant.organisation).values_list("pk", "role")),
        "invitations": tuple(Invitation.objects.filter(organisation=tenant.organisation).values_list("pk", "status")),
        "reports": tuple(Report.objects.filter(case__organisation=tenant.organisation).values_list("pk", "status")),
        "analyses": Analysis.objects.filter(evidence__case__organisation=tenant.organisation).count(),
        "tokens": tuple(ApiToken.objects.filter(organisation=tenant.organisation).values_list("pk", flat=True)),
    }


def test_every_route_that_takes_an_id_has_a_foreign_organisation_case():
    assert set(_id_routes()) == set(FOREIGN_REQUESTS)


@pytest.mark.parametrize("route", sorted(FOREIGN_REQUESTS))
def test_foreign_organisation_id_is_404_and_changes_nothing(client, alpha, beta, route):
    # Given alpha's administrator (the widest role) and ids that exist only in beta
    ids = _beta_ids(beta)
    client.login(username=alpha.admin.username, password=PASSWORD)
    method, kwargs, data = FOREIGN_REQUESTS[route]
    url = reverse(route, kwargs={k: ids[k] for k in kwargs})
    before = _snapshot(beta)

    # When they use beta's ids
    response = getattr(client, method)(url, data() if data else None)

    # Then the answer is the same as for a missing id, and beta is untouched
    assert response.status_code == 404, response.content[:300]
    missing = reverse(route, kwargs={k: _missing_id(k) for k in kwargs})
    assert getattr(client, method)(missing, data() if data else None).status_code == 404
    assert _snapshot(beta) == before


def test_organisation_named_in_header_or_body_is_ignored(client, alpha, beta):
    # Given alpha's investigator naming beta in a header, the query string and the body
    client.login(username=alpha.investigator.username, password=PASSWORD)
    headers = {"HTTP_X_ORGANISATION": str(beta.organisation.public_id)}

    # When they list and create cases
    listed = client.get(f"/api/v1/cases/?organisation={beta.organisation.slug}", **headers).json()
    created = client.post(
        "/api/v1/cases/",
        {"title": "made here", "organisation": beta.organisation.pk},
        content_type="application/json",
        **headers,
    )

    # Then only alpha is ever seen or written
    assert [c["id"] for c in listed["results"]] == [str(alpha.case.public_id)]
    assert created.status_code == 201
    assert Case.objects.get(public_id=created.json()["id"]).organisation == alpha.organisation
    assert not Case.objects.filter(organisation=beta.organisation, title="made here").exists()


def test_member_of_two_organisations_switches_and_sees_only_the_active_one(client, alpha, beta):
    # Given a caseworker volunteering for both organisations
    services.membership_set(organisation=beta.organisation, user=alpha.investigator, role="investigator")
    services.case_assign(case=beta.case, investigators=[alpha.investigator], actor=beta.admin)
    client.login(username=alpha.investigator.username, password=PASSWORD)
    assert alpha.case.reference in client.get("/cases/").content.decode()

    # When they switch to beta
    response = client.post("/organisations/switch/", {"slug": beta.organisation.slug})

    # Then beta's case is listed, alpha's is not, and alpha's case id is now a 404
    assert response.status_code == 302
    page = client.get("/cases/").content.decode()
    assert str(beta.case.public_id) in page
    assert str(alpha.case.public_id) not in page
    assert client.get(f"/cases/{alpha.case.public_id}/").status_code == 404


def _switcher(response) -> list[tuple[str, str]]:
    """The organisation switcher's options: (slug, " selected" or "")."""
    switcher = re.search(r'<select id="org-switch".*?</select>', response.content.decode(), re.S).group(0)
    return re.findall(r'<option value="([a-z]+)"( selected)?>', switcher)


def test_the_switcher_offers_the_other_organisations_by_name_and_acts_first_in_the_earliest_joined(client, alpha, beta):
    # Given an investigator of alpha who joined "Unit Beta" and then "Aardvark Aid"
    aardvark = services.organisation_create(name="Aardvark Aid", slug="aardvark", two_factor_required=False)
    services.membership_set(organisation=beta.organisation, user=alpha.investigator, role="investigator")
    services.membership_set(organisation=aardvark, user=alpha.investigator, role="auditor")
    client.login(username=alpha.investigator.username, password=PASSWORD)

    # Then a page acts in alpha, joined first, and the switcher offers the two others by name
    assert _switcher(client.get("/cases/")) == [("alpha", " selected"), ("aardvark", ""), ("beta", "")]

    # And after switching to beta, alpha is among the others
    client.post("/organisations/switch/", {"slug": "beta"})
    assert _switcher(client.get("/cases/")) == [("beta", " selected"), ("aardvark", ""), ("alpha", "")]


def test_each_request_reads_the_users_memberships_and_enrolment_as_they_are_now(client, alpha, beta):
    # Given an investigator of alpha who has opened a page
    client.login(username=alpha.investigator.username, password=PASSWORD)
    assert _switcher(client.get("/cases/")) == [("alpha", " selected")]

    # When they join beta, and then confirm an authenticator
    services.membership_set(organisation=beta.organisation, user=alpha.investigator, role="auditor")
    joined = client.get("/cases/")
    TOTPDevice.objects.create(user=alpha.investigator, name="phone", confirmed=True)
    enrolled = client.get("/cases/")

    # Then the next page offers beta, and the one after asks for the second factor the session has not given
    assert _switcher(joined) == [("alpha", " selected"), ("beta", "")]
    assert enrolled.status_code == 302 and enrolled["Location"].startswith("/login/code/")
    assert [m.user_enrolled for m in memberships_of(alpha.investigator)] == [True, True]


def test_switching_to_an_organisation_one_is_not_a_member_of_is_404(client, alpha, beta):
    client.login(username=alpha.admin.username, password=PASSWORD)
    response = client.post("/organisations/switch/", {"slug": beta.organisation.slug})
    assert response.status_code == 404
    assert str(beta.case.public_id) not in client.get("/cases/").content.decode()


def test_outsider_sees_no_organisation_and_no_case(client, alpha, outsider):
    client.login(username=outsider.username, password=PASSWORD)
    assert client.get("/cases/").status_code == 403
    assert client.get(f"/cases/{alpha.case.public_id}/").status_code == 403
    assert client.get("/api/v1/cases/").status_code == 403
    assert alpha.case.reference not in client.get("/cases/").content.decode()


def test_anonymous_visitor_is_sent_to_log_in(client, alpha):
    response = client.get(f"/cases/{alpha.case.public_id}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert client.get("/api/v1/cases/").status_code in {401, 403}
