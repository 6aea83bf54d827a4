"""An upload of bytes already received is named by the earlier file and case, on the page and in the API, to a
member who may open that case; one who may not is told only that a copy exists."""

from django.core.files.uploadedfile import SimpleUploadedFile

from cases import services
from tests.conftest import PASSWORD, jpeg_bytes, received


def _file(data: bytes, name: str):
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def _earlier(alpha, *, title="Threats", actor=None):
    case = services.case_create(organisation=alpha.organisation, title=title, actor=actor or alpha.supervisor)
    data = jpeg_bytes(colour=(9, 8, 7))
    item = services.evidence_receive(case=case, received=received(data, "first copy.jpg"), actor=alpha.supervisor).item
    return case, item, data


def test_page_names_the_earlier_file_and_case_not_its_id(client, alpha):
    case, earlier, data = _earlier(alpha)
    client.login(username=alpha.supervisor.username, password=PASSWORD)

    response = client.post(
        f"/cases/{alpha.case.public_id}/evidence/", {"files": [_file(data, "again.jpg")]}, follow=True
    )

    [message] = [str(m) for m in response.context["messages"]]
    assert (
        f"Identical bytes were already received as “first copy.jpg” in case {case.reference} (Threats) on "
        f"{earlier.received_at:%Y-%m-%d}." in message
    )
    assert str(earlier.public_id) not in message


def test_api_gives_the_earlier_file_and_case(client, alpha):
    case, earlier, data = _earlier(alpha)
    client.login(username=alpha.supervisor.username, password=PASSWORD)

    body = client.post(f"/api/v1/cases/{alpha.case.public_id}/evidence/", {"files": [_file(data, "again.jpg")]}).json()

    [item] = body["items"]
    assert item["duplicate_of"] == str(earlier.public_id)
    assert item["duplicate_of_item"] == {
        "id": str(earlier.public_id),
        "original_filename": "first copy.jpg",
        "case": str(case.public_id),
        "case_reference": case.reference,
        "case_title": "Threats",
        "received_at": item["duplicate_of_item"]["received_at"],
    }
    listed = client.get(f"/api/v1/cases/{alpha.case.public_id}/evidence/").json()["results"]
    assert listed[0]["duplicate_of_item"]["case_reference"] == case.reference
    assert client.get(f"/api/v1/evidence/{item['id']}/").json()["duplicate_of_item"]["id"] == str(earlier.public_id)


def test_member_who_cannot_open_the_earlier_case_learns_only_that_a_copy_exists(client, alpha):
    # The investigator sees only the cases they created or are assigned to; the supervisor's case is not one.
    case, earlier, data = _earlier(alpha, title="Not theirs")
    client.login(username=alpha.investigator.username, password=PASSWORD)

    api = client.post(f"/api/v1/cases/{alpha.case.public_id}/evidence/", {"files": [_file(data, "mine.jpg")]})
    page = client.post(f"/cases/{alpha.case.public_id}/evidence/", {"files": [_file(data, "mine2.jpg")]}, follow=True)

    [item] = api.json()["items"]
    assert item["duplicate_of_item"] is None
    for text in (api.content.decode(), page.content.decode()):
        assert "first copy.jpg" not in text and case.reference not in text and "Not theirs" not in text
    assert "Identical bytes were already received in a case of the organisation that you cannot open." in (
        page.content.decode()
    )


def test_a_copy_in_another_organisation_is_not_a_duplicate(client, alpha, beta):
    _, _, data = _earlier(alpha)
    client.login(username=beta.investigator.username, password=PASSWORD)

    body = client.post(f"/api/v1/cases/{beta.case.public_id}/evidence/", {"files": [_file(data, "x.jpg")]}).json()

    assert body["items"][0]["duplicate_of"] is None and body["items"][0]["duplicate_of_item"] is None


def test_the_copy_s_page_links_the_earlier_item_only_for_a_member_who_may_open_it(client, alpha):
    case, earlier, data = _earlier(alpha, title="Not theirs")
    copy = services.evidence_receive(case=alpha.case, received=received(data, "mine.jpg"), actor=alpha.investigator)

    client.login(username=alpha.supervisor.username, password=PASSWORD)
    supervisor_page = client.get(f"/evidence/{copy.item.public_id}/").content.decode()
    client.login(username=alpha.investigator.username, password=PASSWORD)
    investigator_page = client.get(f"/evidence/{copy.item.public_id}/").content.decode()

    assert (
        f'Identical bytes were received earlier as <a href="/evidence/{earlier.public_id}/">“first copy.jpg”</a> in '
        f"case {case.reference} (Not theirs) on {earlier.received_at:%Y-%m-%d}."
    ) in supervisor_page
    assert f'href="/evidence/{earlier.public_id}/"' not in investigator_page
    assert "first copy.jpg" not in investigator_page and "Not theirs" not in investigator_page
    assert "in a case of the organisation that you cannot open." in investigator_page
