"""The case custody page as a supervisor reads it: each ledger entry a sentence with its key facts, digests
shortened with a copy button, the signed entry behind a toggle; filtered by action and actor, paginated; the
sign-off form first."""

import json

import pytest

from cases import services
from cases.models import EvidenceItem
from cases.sizes import size_words
from custody.canonical import entry_hash
from custody.models import CustodyEvent
from custody.timeline import actor_words, event_facts
from custody.views import CaseCustodyView
from tests.conftest import PASSWORD, jpeg_bytes, received


def _page(client, user, case, query=""):
    client.login(username=user.username, password=PASSWORD)
    response = client.get(f"/custody/cases/{case.public_id}/{query}")
    assert response.status_code == 200
    return response


def test_each_entry_reads_as_a_sentence_with_its_digests_shortened_and_copyable(client, alpha, alpha_item):
    response = _page(client, alpha.auditor, alpha.case)
    page = response.content.decode()

    received_entry = next(e for e in response.context["entries"] if e.event.action == "evidence.received")
    assert received_entry.sentence == "alpha-investigator received photo.jpg."
    facts = {fact.label: fact for fact in received_entry.facts}
    assert facts["SHA-256"].value == alpha_item.sha256 and facts["SHA-256"].digest
    assert facts["Size"].value == size_words(alpha_item.size)
    assert facts["File name as sent"].value == "photo.jpg" and not facts["File name as sent"].digest
    assert "Duplicate of item" not in facts  # empty values are left out
    assert f">{alpha_item.sha256[:12]}…</code>" in page
    assert f'data-copy-text="{alpha_item.sha256}"' in page and (
        f'aria-label="Copy from ledger entry {received_entry.event.sequence}: SHA-256"' in page
    )
    assert "js/copy.js" in page
    # The whole signed entry is there behind a toggle, and it is the entry exactly as hashed and signed.
    assert page.count('<details class="signed-entry">') == len(response.context["entries"])
    signed = json.loads(received_entry.signed_entry)
    assert entry_hash(signed) == signed["entry_hash"] == received_entry.event.entry_hash
    assert signed["signature"] == received_entry.event.signature


def test_a_long_group_of_plain_values_is_one_fact_and_short_groups_are_flattened():
    facts = event_facts(
        {
            "tool_versions": {"exiftool": "12.57", "mediainfo": "24.12", "libmagic": "5.44", "c2pa": "0.38", "x": ""},
            "checkpoint": {"tree_size": 39, "root_hash": "ab" * 32},
        }
    )

    assert [(fact.label, fact.value, fact.digest) for fact in facts] == [
        ("Tool versions", "exiftool 12.57, mediainfo 24.12, libmagic 5.44, c2pa 0.38", False),
        ("Checkpoint: entries covered", "39", False),
        ("Checkpoint: root hash", "ab" * 32, True),
    ]


def test_a_completed_analysis_reads_with_its_verdict_sentence(client, alpha, django_capture_on_commit_callbacks):
    # Given an item received and analysed for real
    with django_capture_on_commit_callbacks(execute=True):
        receipt = services.evidence_receive(case=alpha.case, received=received(jpeg_bytes()), actor=alpha.investigator)
    item = EvidenceItem.objects.get(pk=receipt.item.pk)

    response = _page(client, alpha.supervisor, alpha.case)

    # Then its entry gives the verdict's sentence, not the code the signed entry keeps
    completed = next(e for e in response.context["entries"] if e.event.action == "analysis.completed")
    facts = {fact.label: fact.value for fact in completed.facts}
    assert facts["Verdict"] == item.get_verdict_display() != item.verdict
    assert facts["Result SHA-256"] == completed.event.details["result_sha256"]
    assert json.loads(completed.signed_entry)["details"]["verdict"] == item.verdict
    assert f"<dt>Verdict</dt><dd>{item.get_verdict_display()}</dd>" in response.content.decode()


def test_background_work_is_told_as_the_system():
    assert actor_words("system:analysis") == "The system (analysis)"
    assert actor_words("alpha-supervisor") == "alpha-supervisor"


def test_filter_by_action_and_actor(client, alpha, alpha_item):
    services.case_note_add(case=alpha.case, text="Seen.", actor=alpha.supervisor)

    by_action = _page(client, alpha.auditor, alpha.case, "?action=note.added").context
    by_actor = _page(client, alpha.auditor, alpha.case, "?actor=alpha-supervisor").context
    both = _page(client, alpha.auditor, alpha.case, "?action=evidence.received&actor=alpha-supervisor").context

    assert [e.event.action for e in by_action["entries"]] == ["note.added"]
    assert {e.event.actor_label for e in by_actor["entries"]} == {"alpha-supervisor"}
    assert both["entries"] == [] and both["filtered"]
    assert ("note.added", "Note added") in by_action["actions"]
    assert {"alpha-investigator", "alpha-supervisor"} <= set(by_action["actors"])


def test_entries_are_paginated_oldest_first_and_the_pages_keep_the_filter(client, alpha, monkeypatch):
    monkeypatch.setattr(CaseCustodyView, "page_size", 3)
    for colour in range(4):
        services.evidence_receive(
            case=alpha.case, received=received(jpeg_bytes(colour=(colour, 0, 0))), actor=alpha.investigator
        )
    sequences = list(
        CustodyEvent.objects.filter(case=alpha.case, action="evidence.received")
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )

    first = _page(client, alpha.auditor, alpha.case, "?action=evidence.received")
    second = _page(client, alpha.auditor, alpha.case, "?action=evidence.received&page=2")

    assert [e.event.sequence for e in first.context["entries"]] == sequences[:3]
    assert [e.event.sequence for e in second.context["entries"]] == sequences[3:]
    assert 'href="?action=evidence.received&amp;page=2"' in first.content.decode()
    assert "Page 1 of 2" in first.content.decode()


def test_sign_off_form_comes_before_the_entries(client, alpha):
    services.case_status_change(case=alpha.case, status="under_review", actor=alpha.supervisor)

    page = _page(client, alpha.supervisor, alpha.case).content.decode()

    assert page.index('id="sign-off-form"') < page.index('<ol class="timeline">')


@pytest.mark.parametrize("query", ["?action=nonsense", "?actor=nobody", "?page=999"])
def test_an_unknown_filter_or_page_shows_nothing_or_the_last_page_rather_than_failing(client, alpha, query):
    response = _page(client, alpha.auditor, alpha.case, query)
    assert response.status_code == 200


def test_foreign_case_timeline_is_404_with_its_filters(client, alpha, beta):
    client.login(username=alpha.supervisor.username, password=PASSWORD)
    before = CustodyEvent.objects.filter(organisation=beta.organisation).count()

    response = client.get(f"/custody/cases/{beta.case.public_id}/?action=case.created&actor=beta-investigator")

    assert response.status_code == 404
    assert b"beta" not in response.content
    assert CustodyEvent.objects.filter(organisation=beta.organisation).count() == before


def test_a_failed_analysis_reads_as_a_sentence_that_starts_with_who_recorded_it():
    from datetime import UTC, datetime
    from uuid import uuid4

    from custody.models import Action
    from custody.timeline import TimelineEvent, event_sentence

    event = TimelineEvent(
        uuid4(), 7, datetime(2026, 3, 1, tzinfo=UTC), "system:analysis", Action.ANALYSIS_FAILED, uuid4(), uuid4(),
        {"error": "test"}, "0" * 64, "k", "1" * 64, "s", "harbour.jpg",
    )  # fmt: skip

    assert event_sentence(event) == "The system (analysis) recorded that the analysis of harbour.jpg failed."
