"""The dashboard as it reads: its chart drawn as the template's loops drew it, with coordinates SVG reads in every
language; and the lines of its lists (items in progress, cases needing review, recent custody activity) in the
viewer's time zone, with the names that came from outside shown as text, and only what the member may see."""

import re
from datetime import UTC, date, datetime

import pytest
from django.template import Context, Template
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format

from cases import services, views
from cases.charts import received_chart
from cases.models import Case, EvidenceItem
from custody.models import CustodyEvent
from tests.conftest import PASSWORD, jpeg_bytes, received

HOSTILE_NAME = "<img src=x onerror=alert(1)> " + "a" * 40 + ".jpg"

# The chart's grid, bars and day labels as the dashboard's template drew them.
TEMPLATE_LOOPS = (
    "{% for y, value in chart.ticks %}"
    '<line x1="{{ chart.plot_left }}" x2="{{ chart.plot_right }}" y1="{{ y }}" y2="{{ y }}" class="grid"/>'
    '<text x="{{ chart.plot_left|add:\'-6\' }}" y="{{ y }}" class="axis" text-anchor="end"'
    ' dominant-baseline="middle">{{ value }}</text>{% endfor %}\n'
    "{% for bar in chart.bars %}<g><title>{{ bar.title }}</title>{% for segment in bar.segments %}"
    '<rect x="{{ bar.x }}" y="{{ segment.y }}" width="{{ bar.width }}" height="{{ segment.height }}"'
    ' class="series-{{ segment.series }}"/>{% endfor %}{% if not bar.segments %}'
    '<rect x="{{ bar.x }}" y="{{ chart.plot_bottom|add:\'-1\' }}" width="{{ bar.width }}" height="1"'
    ' class="series-none"/>{% endif %}</g>{% endfor %}\n'
    '{% for x, label in chart.labels %}<text x="{{ x }}" y="{{ chart.plot_bottom|add:\'18\' }}" class="axis"'
    ' text-anchor="middle">{{ label }}</text>{% endfor %}'
)


def _counts() -> dict[tuple[date, str], int]:
    # Counts whose heights and positions are not whole numbers, a day without items among them.
    return {
        (date(2026, 3, 15), "ok"): 4,
        (date(2026, 3, 15), "attention"): 2,
        (date(2026, 3, 15), "compromised"): 1,
        (date(2026, 3, 1), ""): 3,
        (date(2026, 2, 14), "attention"): 1,
    }


def test_chart_is_drawn_as_the_templates_loops_drew_it():
    chart = received_chart(_counts(), today=date(2026, 3, 15))
    drawn = Template(TEMPLATE_LOOPS).render(Context({"chart": chart}))

    assert "\n".join([chart.grid_markup, chart.bars_markup, chart.labels_markup]) == drawn


# An SVG coordinate: digits with an optional decimal point, never a locale's decimal comma.
SVG_NUMBER = re.compile(r"-?\d+(\.\d+)?")


@pytest.mark.parametrize("language", ["en-gb", "de", "fr"])
def test_chart_coordinates_are_svg_numbers_in_every_language(language):
    with translation.override(language):
        chart = received_chart(_counts(), today=date(2026, 3, 15))
    markup = "".join([chart.grid_markup, chart.bars_markup, chart.labels_markup])
    coordinates = re.findall(r' (?:x|y|x1|x2|y1|y2|width|height)="([^"]*)"', markup)

    assert len(coordinates) > 100
    assert [value for value in coordinates if not SVG_NUMBER.fullmatch(value)] == []
    assert 'x="678.19"' in markup


def test_chart_titles_name_each_day_and_its_verdicts():
    with translation.override("de"):
        german = received_chart(_counts(), today=date(2026, 3, 15))
    chart = received_chart(_counts(), today=date(2026, 3, 15))

    # Each verdict named by its sentence, as the site and the reports state it
    assert chart.bars[-1].title == (
        "15 Mar: 7 received (No obvious signs of tampering detected: 4; Potential integrity anomalies detected: 2;"
        " Integrity compromised: 1)"
    )
    assert chart.bars[15].title == "01 Mar: 3 received (No verdict yet: 3)"
    assert chart.bars[1].title == "15 Feb: 0 received"
    assert german.bars[-1].title.startswith("15 Mär: 7 received (No obvious signs of tampering detected: 4;")


def test_chart_legend_and_summary_name_the_verdicts_by_their_sentences():
    chart = received_chart(_counts(), today=date(2026, 3, 15))

    assert [label for _series, label in chart.series] == [
        "No obvious signs of tampering detected",
        "Potential integrity anomalies detected",
        "Integrity compromised",
        "No verdict yet",
    ]
    assert chart.summary == (
        "11 items received from 14 February to 15 March 2026 (No obvious signs of tampering detected: 4;"
        " Potential integrity anomalies detected: 3; Integrity compromised: 1; No verdict yet: 3);"
        " at most 7 on one day."
    )


def _line(page: str, start: str) -> str:
    begin = page.index(start)
    return page[begin : page.index("</li>", begin) + len("</li>")]


def test_lists_show_what_the_investigator_may_see_in_their_time_zone_and_outside_words_as_text(client, alpha):
    # Given an item with a hostile name received into the investigator's case (its analysis queued), the case under
    # review with a title written as markup, and an item of a case the investigator is not involved in
    services.case_update(case=alpha.case, title="<b>north</b> & 'east'", description="", actor=alpha.investigator)
    item = services.evidence_receive(
        case=alpha.case, received=received(jpeg_bytes(), HOSTILE_NAME), actor=alpha.investigator
    ).item
    EvidenceItem.objects.filter(pk=item.pk).update(received_at=datetime(2026, 3, 1, 11, 0, tzinfo=UTC))
    services.case_status_change(case=alpha.case, status="under_review", actor=alpha.investigator)
    other = services.case_create(organisation=alpha.organisation, title="elsewhere", actor=alpha.supervisor)
    hidden = services.evidence_receive(
        case=other, received=received(jpeg_bytes(colour=(1, 2, 3)), "hidden.jpg"), actor=alpha.supervisor
    ).item
    client.login(username=alpha.investigator.username, password=PASSWORD)

    # When the investigator opens the dashboard from the Chatham Islands (UTC+13:45 in March)
    with timezone.override("Pacific/Chatham"):
        page = client.get("/dashboard/").content.decode()
        received_event = CustodyEvent.objects.get(evidence=item, action="evidence.received")
        recorded = date_format(timezone.localtime(received_event.recorded_at), "m-d H:i e")
        case = Case.objects.get(pk=alpha.case.pk)
        updated = date_format(timezone.localtime(case.updated_at), "Y-m-d")

    # Then each line reads as its item, case or entry is, escaped where it came from outside
    name = "&lt;img src=x onerror=alert(1)&gt; " + "a" * 10 + "…"
    reference = alpha.case.reference
    assert _line(page, f'<li><a href="/evidence/{item.public_id}/">') == (
        f'<li><a href="/evidence/{item.public_id}/">{name}</a>'
        f' <span class="muted small">{reference} · queued</span></li>'
    )
    assert _line(page, f'<li><a href="/cases/{alpha.case.public_id}/">') == (
        f'<li><a href="/cases/{alpha.case.public_id}/">{reference}</a>'
        " &lt;b&gt;north&lt;/b&gt; &amp; &#x27;east&#x27;"
        f' <span class="muted small">since {updated}</span></li>'
    )
    assert _line(page, f'<li><span class="muted small">{recorded}</span> Evidence received') == (
        f'<li><span class="muted small">{recorded}</span> Evidence received'
        f' · <a href="/cases/{alpha.case.public_id}/">{reference}</a>'
        f' · <a href="/evidence/{item.public_id}/">&lt;img src=x onerror=alert(1)…</a>'
        f' <span class="muted small">by {alpha.investigator.username}</span></li>'
    )
    assert str(hidden.public_id) not in page and other.reference not in page


@pytest.mark.parametrize("window", [1000, 3])
def test_activity_is_the_members_newest_entries_however_far_back_they_are(client, alpha, monkeypatch, window):
    # Given more entries of the investigator's case than the activity shows, then another case whose entries
    # outnumber the window the activity first looks in (1000: theirs are in it; 3: they are not)
    monkeypatch.setattr(views, "ACTIVITY_WINDOW", window)
    for n in range(views.DashboardView.activity_shown):
        services.evidence_receive(
            case=alpha.case, received=received(jpeg_bytes(colour=(n, 0, 0))), actor=alpha.investigator
        )
    other = services.case_create(organisation=alpha.organisation, title="elsewhere", actor=alpha.supervisor)
    for n in range(3):
        services.evidence_receive(case=other, received=received(jpeg_bytes(colour=(n, 9, 9))), actor=alpha.supervisor)
    client.login(username=alpha.investigator.username, password=PASSWORD)

    activity = client.get("/dashboard/").context["activity"]

    # Then it lists their case's newest entries, newest first, and no other case's
    theirs = CustodyEvent.objects.filter(case=alpha.case).order_by("-sequence")[: views.DashboardView.activity_shown]
    assert [event.pk for event in activity] == [event.pk for event in theirs]


@pytest.mark.parametrize("under_review", [2, views.DashboardView.review_shown, views.DashboardView.review_shown + 1])
def test_cases_needing_review_are_counted_however_many_are_listed(client, alpha, under_review):
    for n in range(under_review):
        case = services.case_create(organisation=alpha.organisation, title=f"review {n}", actor=alpha.supervisor)
        services.case_status_change(case=case, status="under_review", actor=alpha.supervisor)
    client.login(username=alpha.supervisor.username, password=PASSWORD)

    page = client.get("/dashboard/").content.decode()

    assert f"Cases needing review <small>({under_review})</small>" in page
    listed = min(under_review, views.DashboardView.review_shown)
    assert page.count('<span class="muted small">since ') == listed
    assert (f"All {under_review} cases under review" in page) == (under_review > listed)
