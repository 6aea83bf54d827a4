"""Analysing an item again from its page: offered after a failed analysis or under an older rule set, to members who
may upload evidence to the case; the new run is recorded in custody and the earlier one kept."""

from cases import services
from cases.models import EvidenceItem
from custody.models import CustodyEvent
from forensics.models import Analysis
from forensics.rules import ruleset_version
from forensics.services import analysis_fail, analysis_start
from tests.conftest import PASSWORD, jpeg_bytes, received

RUN_AGAIN = "Run the analysis again"
UNDER_CURRENT = "Analyse again with the current rule set"


def _failed_item(tenant) -> EvidenceItem:
    """An item whose analysis failed (the task started and the tool crashed), its media still held."""
    item = services.evidence_receive(case=tenant.case, received=received(jpeg_bytes()), actor=tenant.investigator).item
    analysis_fail(analysis=analysis_start(analysis_id=item.analyses.get().pk), error="test: the tool crashed")
    return EvidenceItem.objects.get(pk=item.pk)


def _page(client, user, item) -> str:
    client.force_login(user)
    return client.get(f"/evidence/{item.public_id}/").content.decode()


def test_a_failed_analysis_is_run_again_from_the_page_and_both_are_kept(
    client, alpha, django_capture_on_commit_callbacks
):
    item = _failed_item(alpha)
    page = _page(client, alpha.investigator, item)
    assert RUN_AGAIN in page and f'action="/evidence/{item.public_id}/analyse/"' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/evidence/{item.public_id}/analyse/", follow=True)

    assert f"The item is queued for analysis with rule set {ruleset_version()}" in response.content.decode()
    analyses = list(Analysis.objects.filter(evidence=item).order_by("queued_at", "id"))
    assert [(analysis.status, analysis.reason) for analysis in analyses] == [
        ("failed", "upload"),
        ("done", "reanalysis"),
    ]
    queued = CustodyEvent.objects.filter(evidence=item, action="analysis.queued").order_by("sequence").last()
    assert queued.actor == alpha.investigator and queued.details["reason"] == "reanalysis"
    item.refresh_from_db()
    assert item.analysis_status == "done"
    assert RUN_AGAIN not in _page(client, alpha.investigator, item)  # done under the current rule set: nothing new


def test_an_analysis_under_an_older_rule_set_offers_the_current_one(client, alpha, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        item = services.evidence_receive(case=alpha.case, received=received(jpeg_bytes()), actor=alpha.investigator)
    analysis = Analysis.objects.get(evidence=item.item)
    assert UNDER_CURRENT not in _page(client, alpha.investigator, item.item)

    Analysis.objects.filter(pk=analysis.pk).update(ruleset_version="2025.1+dp.00000000")
    page = _page(client, alpha.investigator, item.item)

    assert UNDER_CURRENT in page
    assert f"This analysis was made with rule set 2025.1+dp.00000000; the current rule set is {ruleset_version()}." in (
        page
    )


def test_an_auditor_who_may_not_upload_is_not_offered_it_and_is_refused(client, alpha):
    item = _failed_item(alpha)

    assert RUN_AGAIN not in _page(client, alpha.auditor, item)
    assert client.post(f"/evidence/{item.public_id}/analyse/").status_code == 403
    assert item.analyses.count() == 1


def test_another_organisation_cannot_tell_the_item_exists(client, alpha, beta):
    item = _failed_item(alpha)
    client.force_login(beta.admin)

    assert client.post(f"/evidence/{item.public_id}/analyse/").status_code == 404
    assert item.analyses.count() == 1


def test_an_uninvolved_investigator_cannot_reanalyse(client, alpha):
    from django.contrib.auth import get_user_model

    other = get_user_model().objects.create_user("alpha-other", password=PASSWORD)
    services.membership_set(organisation=alpha.organisation, user=other, role="investigator")
    item = _failed_item(alpha)
    client.force_login(other)

    assert client.post(f"/evidence/{item.public_id}/analyse/").status_code == 404
    assert item.analyses.count() == 1


def test_an_item_whose_media_was_deleted_is_refused_with_the_reason(client, alpha, django_capture_on_commit_callbacks):
    # Given an item analysed under an older rule set, whose media was then deleted
    with django_capture_on_commit_callbacks(execute=True):
        receipt = services.evidence_receive(case=alpha.case, received=received(jpeg_bytes()), actor=alpha.investigator)
    item = receipt.item
    Analysis.objects.filter(evidence=item).update(ruleset_version="2025.1+dp.00000000")
    services.evidence_media_delete(item=EvidenceItem.objects.get(pk=item.pk), reason="victim asked", actor=alpha.admin)
    item.refresh_from_db()

    # Then nothing is offered, and a request made anyway is refused with the reason
    assert UNDER_CURRENT not in _page(client, alpha.admin, item)
    response = client.post(f"/evidence/{item.public_id}/analyse/", follow=True)

    said = [(message.level_tag, str(message)) for message in response.context["messages"]]
    assert said == [("error", item.media_deleted_message)]
    assert item.analyses.count() == 1


def test_get_is_not_an_action(client, alpha):
    item = _failed_item(alpha)
    client.force_login(alpha.investigator)

    assert client.get(f"/evidence/{item.public_id}/analyse/").status_code == 405
