"""A row of the case page's evidence table: the link to the item, its file name (shortened) and type, its SHA-256
(shortened), its verdict with the assessment's badges or its analysis status, when it was received in the viewer's
time zone and its latest report; with the names, reasons and assessments that came from outside shown as text."""

from datetime import UTC, datetime

from django.utils import timezone

from cases import services
from cases.models import AnalysisStatus, EvidenceItem, Verdict
from reports.models import Report, ReportKind, ReportStatus
from tests.conftest import PASSWORD, jpeg_bytes, received

HOSTILE_NAME = "<img src=x onerror=alert(1)> " + "a" * 40 + ".jpg"


def _item(alpha, n: int, name: str = "photo.jpg", **fields) -> EvidenceItem:
    item = services.evidence_receive(
        case=alpha.case, received=received(jpeg_bytes(colour=(n, 0, 0)), name=name), actor=alpha.investigator
    ).item
    EvidenceItem.objects.filter(pk=item.pk).update(received_at=datetime(2026, 3, 1, 0, n, tzinfo=UTC), **fields)
    item.refresh_from_db()
    return item


def _report(alpha, item: EvidenceItem, status: str, hour: int) -> Report:
    report = Report.objects.create(
        kind=ReportKind.EVIDENCE, case=alpha.case, evidence=item, status=status, requested_by=alpha.investigator
    )
    Report.objects.filter(pk=report.pk).update(requested_at=datetime(2026, 3, 1, hour, tzinfo=UTC))
    return report


def _row(page: str, item: EvidenceItem) -> str:
    start = page.index(f'<td><a href="/evidence/{item.public_id}/">')
    return page[start : page.index("</tr>", start)]


def test_rows_show_each_item_in_the_viewers_time_zone_and_outside_words_as_text(client, alpha):
    # given an item with a hostile name, judged compromised, declared AI-made by a generator whose name is markup
    # and with a broken signature, whose ready report was followed by a failed one
    judged = _item(
        alpha,
        1,
        name=HOSTILE_NAME,
        analysis_status=AnalysisStatus.DONE,
        verdict=Verdict.COMPROMISED,
        assessment={"synthetic_media": {"state": "declared", "by": ["<b>Gen</b>"]}, "provenance": {"state": "broken"}},
    )
    ready = _report(alpha, judged, ReportStatus.DONE, 1)
    _report(alpha, judged, ReportStatus.FAILED, 2)
    # an item still queued, recorded as a duplicate of the first, under a PNG name, whose media was deleted for a reason
    # written as markup, with a report being generated
    queued = _item(
        alpha,
        2,
        name="copy.png",
        analysis_status=AnalysisStatus.QUEUED,
        duplicate_of=judged,
        media_deleted_at=datetime(2026, 3, 1, 11, 0, tzinfo=UTC),
        media_deleted_reason='court "order" <5> & co\'s',
    )
    _report(alpha, queued, ReportStatus.RUNNING, 3)
    # and an item whose analysis failed, without a report
    failed = _item(alpha, 3, analysis_status=AnalysisStatus.FAILED)
    client.login(username=alpha.admin.username, password=PASSWORD)

    # when a viewer in the Chatham Islands (UTC+13:45 in March) opens the case
    with timezone.override("Pacific/Chatham"):
        page = client.get(f"/cases/{alpha.case.public_id}/").content.decode()

    # then each row reads as its item is, escaped where it came from outside
    case_id = f'<td class="mono small">{str(alpha.case.public_id)[:8]}…</td>'
    assert page.count(case_id) == 3
    name = "&lt;img src=x onerror=alert(1)&gt; " + "a" * 30 + "…"
    assert _row(page, judged) == (
        f'<td><a href="/evidence/{judged.public_id}/">{name}</a></td>\n'
        "        <td>image/jpeg</td>\n"
        f'        <td class="mono small" title="{judged.sha256}">{judged.sha256[:16]}…</td>\n'
        '        <td><span class="verdict verdict-compromised">Integrity compromised</span>'
        ' <span class="badge badge-alert" data-aspect="synthetic_media">AI-declared</span>'
        ' <span class="badge badge-alert" data-aspect="provenance">Signature broken</span></td>\n'
        "        <td>2026-03-01 13:46 +1345</td>\n"
        f'        <td><a href="/reports/{ready.public_id}/download/">PDF</a>'
        ' <span class="muted small">(failed)</span>\n</td>\n      '
    )
    mismatch = "The file name has &#x27;.png&#x27; but the bytes are JPEG (image/jpeg)."
    assert _row(page, queued) == (
        f'<td><a href="/evidence/{queued.public_id}/">copy.png</a> <span class="tag">duplicate</span>'
        ' <span class="tag" title="court &quot;order&quot; &lt;5&gt; &amp; co&#x27;s">'
        "media deleted on 2026-03-02</span>"
        f' <span class="tag warn" title="{mismatch}">type mismatch</span></td>\n'
        "        <td>image/jpeg</td>\n"
        f'        <td class="mono small" title="{queued.sha256}">{queued.sha256[:16]}…</td>\n'
        f'        <td><span class="muted" data-live-item="{queued.public_id}" data-live-status="queued">'
        "Queued</span></td>\n"
        "        <td>2026-03-01 13:47 +1345</td>\n"
        '        <td><span class="muted">Being generated</span>\n</td>\n      '
    )
    assert _row(page, failed) == (
        f'<td><a href="/evidence/{failed.public_id}/">photo.jpg</a></td>\n'
        "        <td>image/jpeg</td>\n"
        f'        <td class="mono small" title="{failed.sha256}">{failed.sha256[:16]}…</td>\n'
        '        <td><span class="muted">Failed</span></td>\n'
        "        <td>2026-03-01 13:48 +1345</td>\n"
        '        <td><span class="muted">—</span>\n</td>\n      '
    )
