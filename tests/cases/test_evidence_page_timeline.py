"""The custody timeline of the evidence page, made in Python (custody.timeline.timeline_entries): each entry's
sequence, time in the viewer's time zone, sentence, facts (digests shortened, with a copy button) and the signed
entry exactly as the verifier reads it; with the names and findings that came from outside shown as text."""

import json
import uuid
from datetime import UTC, datetime

from django.utils import timezone

from cases import services
from cases.sizes import size_words
from custody.access import integrity_alarm_record
from custody.canonical import datetime_text
from custody.ledger import ledger_entries
from custody.models import CustodyEvent
from custody.timeline import TimelineEvent, signed_entry
from tests.conftest import PASSWORD, jpeg_bytes, received

HOSTILE_NAME = "<img src=x onerror=alert(1)> \"quoted\" & 'co'.jpg"


def _json_value(value):
    return datetime_text(value) if isinstance(value, datetime) else str(value)


def _verifier_text(event: CustodyEvent) -> str:
    """The entry as exports and the offline verifier name its fields, indented as the page shows it."""
    [entry] = ledger_entries(CustodyEvent.objects.filter(pk=event.pk))
    return json.dumps(entry, ensure_ascii=False, indent=2, sort_keys=True, default=_json_value)


def _entry(page: str, event: CustodyEvent) -> str:
    start = page.index(f'<li class="entry alarm" id="entry-{event.sequence}">')
    return page[start : page.index("</li>", start) + len("</li>")]


def test_each_entry_reads_in_the_viewers_time_zone_with_outside_words_as_text(client, alpha):
    # given an item with a hostile name whose stored copy raised an integrity alarm with a finding written as markup
    item = services.evidence_receive(
        case=alpha.case, received=received(jpeg_bytes(), name=HOSTILE_NAME), actor=alpha.investigator
    ).item
    alarm = integrity_alarm_record(
        item=item, actor=alpha.admin, finding='the stored <b>file</b> & "more"', found={"found_size": 3}
    )
    client.login(username=alpha.supervisor.username, password=PASSWORD)

    # when a supervisor in the Chatham Islands opens the item
    with timezone.override("Pacific/Chatham"):
        page = client.get(f"/evidence/{item.public_id}/").content.decode()
        local = timezone.localtime(alarm.recorded_at)

    # then the alarm's entry reads as recorded, escaped where the words came from outside
    name = "&lt;img src=x onerror=alert(1)&gt; &quot;quoted&quot; &amp; &#x27;co&#x27;.jpg"
    size = size_words(item.size)
    signed = _verifier_text(alarm).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    signed = signed.replace('"', "&quot;").replace("'", "&#x27;")
    sequence = alarm.sequence
    facts = {
        "during": "<dt>During</dt><dd>download</dd>",
        "finding": "<dt>Finding</dt><dd>the stored &lt;b&gt;file&lt;/b&gt; &amp; &quot;more&quot;</dd>",
        "expected_sha256": f'<dt>Expected SHA-256</dt><dd><code class="mono" title="{item.sha256}">'
        f'{item.sha256[:12]}…</code> <button type="button" class="copy" hidden data-copy-text="{item.sha256}"'
        f' data-copy-label="Expected SHA-256" aria-label="Copy from ledger entry {sequence}: Expected SHA-256">'
        "Copy</button></dd>",
        "expected_size": f"<dt>Expected size</dt><dd>{size}</dd>",
        "found_size": "<dt>Found size</dt><dd>3</dd>",
    }
    # In the order the database gives the details back (PostgreSQL's jsonb orders keys by length).
    stored = CustodyEvent.objects.get(pk=alarm.pk).details
    assert _entry(page, alarm) == (
        f'<li class="entry alarm" id="entry-{sequence}">\n'
        f'    <p class="sentence"><span class="muted small">#{sequence} · <time datetime="{local.isoformat()}">'
        f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}</time></span><br>"
        f"Integrity alarm: the stored copy of {name} did not match (alpha-admin).</p>\n"
        '    <dl class="entry-facts">\n' + "".join(f"      {facts[key]}\n" for key in stored) + "    </dl>\n"
        '    <details class="signed-entry"><summary>Signed ledger entry</summary>'
        f'<pre class="mono small">{signed}</pre></details>\n'
        "  </li>"
    )
    # and the page tells of the latest alarm above everything
    assert f"custody ledger entry {sequence}: the stored &lt;b&gt;file&lt;/b&gt; &amp; &quot;more&quot;)" in page


def test_an_entry_without_details_or_item_is_signed_as_the_verifier_reads_it():
    # given entries of every shape their details can take, and one of no case or item
    details = [
        {},
        {"via": "page"},
        {"tool_versions": {"exiftool": "12.57", "c2pa": None}, "sizes": [1, 2.5, True, None], "empty": {}, "none": []},
        {"text": 'line\nbreak, "quoted", ünïcode ✓ \u2028', "nested": [{"a": [{}]}, []], "number": -0.0},
    ]
    for number, recorded in enumerate(details):
        event = TimelineEvent(
            organisation=uuid.UUID(int=1),
            sequence=number + 1,
            recorded_at=datetime(2026, 11, 30, 13, 20, 5, 123, tzinfo=UTC),
            actor_label="system:analysis" if number % 2 else "alpha-admin",
            action="case.created",
            case=uuid.UUID(int=2) if number % 2 else None,
            evidence=None,
            details=recorded,
            prev_hash="ab" * 32,
            key_id="0123456789abcdef",
            entry_hash="cd" * 32,
            signature="c2lnbmF0dXJl",
            evidence_filename=None,
        )
        fields = {
            "organisation": event.organisation,
            "sequence": event.sequence,
            "recorded_at": event.recorded_at,
            "actor": event.actor_label,
            "action": event.action,
            "case": event.case,
            "evidence": event.evidence,
            "details": event.details,
            "prev_hash": event.prev_hash,
            "key_id": event.key_id,
            "entry_hash": event.entry_hash,
            "signature": event.signature,
        }

        # then its signed entry is the text json.dumps gives
        assert signed_entry(event) == json.dumps(
            fields, ensure_ascii=False, indent=2, sort_keys=True, default=_json_value
        )
