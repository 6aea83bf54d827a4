"""Every date with a time that a page shows names its time zone, as the case and evidence pages' facts do ("2026-03-01
13:45 UTC"): a note, a review sign-off, a case's last custody entry, a token's last use. Without it a reader
cannot tell the server's zone from their own."""

import re

from django.utils import timezone

from cases import services
from cases.models import ApiToken
from custody.reviews import review_sign_off
from tests.conftest import PASSWORD

# A date and time as the pages write them, then the zone's name: "+1345" for the Chatham Islands' standard or
# daylight time (either, whenever the test runs).
CHATHAM_TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d \+1[23]45"


def test_notes_sign_offs_custody_entries_and_token_use_name_the_zone(client, alpha):
    # Given a case with a note, under review and signed off, and a token that has been used
    services.case_note_add(case=alpha.case, text="Called the platform.", actor=alpha.investigator)
    services.case_status_change(case=alpha.case, status="under_review", actor=alpha.supervisor)
    review_sign_off(case=alpha.case, comment="Checked.", actor=alpha.supervisor)
    token, _secret = services.api_token_create(user=alpha.supervisor, name="laptop", organisation=alpha.organisation)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    client.login(username=alpha.supervisor.username, password=PASSWORD)

    # When a supervisor in the Chatham Islands reads the pages
    with timezone.override("Pacific/Chatham"):
        case_page = client.get(f"/cases/{alpha.case.public_id}/").content.decode()
        custody = client.get(f"/custody/cases/{alpha.case.public_id}/").content.decode()
        audit = client.get("/custody/").content.decode()
        account = client.get("/account/").content.decode()

    # Then each time carries its zone
    assert re.search(rf"{alpha.investigator.username} · {CHATHAM_TIME}</header>", case_page)
    assert re.search(rf"Reviewed by {alpha.supervisor.username} · {CHATHAM_TIME} · ledger entry", custody)
    assert re.search(rf"</a> · {CHATHAM_TIME}</header>", audit)  # the recent sign-off
    assert re.search(rf"<td>{CHATHAM_TIME}</td>", audit)  # the case's last custody entry
    assert re.search(rf"<td>{CHATHAM_TIME}</td>", account)  # the token's last use
