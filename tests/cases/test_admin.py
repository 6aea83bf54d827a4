"""The Django admin shows staff only their own organisations' records, and never lets them edit evidence."""

from django.contrib.auth.models import Permission

from tests.conftest import PASSWORD


def test_staff_sees_only_their_organisations_cases_and_cannot_edit_them(client, alpha, beta):
    staff = alpha.admin
    staff.is_staff = True
    staff.save()
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="cases"))
    client.login(username=staff.username, password=PASSWORD)

    changelist = client.get("/admin/cases/case/").content.decode()
    assert alpha.case.reference in changelist
    assert beta.case.title not in changelist
    assert client.get(f"/admin/cases/case/{beta.case.pk}/change/").status_code == 302  # "doesn't exist"
    assert client.post(f"/admin/cases/case/{alpha.case.pk}/change/", {"title": "x"}).status_code == 403
    assert client.get("/admin/cases/case/add/").status_code == 403


def test_last_administrator_cannot_be_removed_or_demoted(client, alpha):
    client.login(username=alpha.admin.username, password=PASSWORD)
    membership = alpha.organisation.memberships.get(user=alpha.admin)
    response = client.post("/api/v1/members/", {"username": alpha.admin.username, "role": "auditor"})
    assert response.status_code == 409
    assert "at least one administrator" in response.json()["detail"]
    assert client.delete(f"/api/v1/members/{membership.public_id}/").status_code == 409
    membership.refresh_from_db()
    assert membership.role == "admin"
