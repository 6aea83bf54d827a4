"""The layout's header links (cases.context_processors.layout_links), reversed once a process for each URLconf and
script prefix: each page links where {% url %} would have, under whatever prefix the site is served."""

from django.test.utils import override_script_prefix

from tests.conftest import PASSWORD


def test_the_header_links_each_page_to_the_layouts_pages(client, alpha):
    client.login(username=alpha.admin.username, password=PASSWORD)

    page = client.get("/cases/").content.decode()

    assert '<a class="brand" href="/">' in page
    assert '<a href="/cases/" aria-current="page">' in page and '<a href="/dashboard/">' in page
    assert '<a href="/custody/">' in page and '<a href="/organisation/members/">' in page
    assert '<form method="post" action="/organisations/switch/" class="switcher">' in page
    assert '<form method="post" action="/logout/">' in page and '<script src="/jsi18n/" defer>' in page


def test_the_header_marks_every_page_it_links_as_current_there(client, alpha):
    client.login(username=alpha.admin.username, password=PASSWORD)

    audit = client.get("/custody/").content.decode()
    members = client.get("/organisation/members/").content.decode()
    cases = client.get("/cases/").content.decode()

    # The custody audit and members links are marked (and underlined) on their pages, as the others are on theirs
    assert '<a href="/custody/" aria-current="page">Custody audit</a>' in audit
    assert '<a href="/organisation/members/" aria-current="page">Members</a>' in members
    assert '<a href="/custody/">Custody audit</a>' in cases and '<a href="/organisation/members/">Members</a>' in cases


def test_the_header_links_follow_the_prefix_the_site_is_served_under(client, alpha):
    client.login(username=alpha.admin.username, password=PASSWORD)

    # When the same page is served at the root, under a prefix, and at the root again
    plain = client.get("/cases/").content.decode()
    with override_script_prefix("/evidence-media/"):
        prefixed = client.get("/cases/").content.decode()
    again = client.get("/cases/").content.decode()

    # Then each links under its own prefix, as reversing each link for that request does
    assert '<a href="/evidence-media/dashboard/">' in prefixed and '<a href="/dashboard/">' not in prefixed
    assert '<form method="post" action="/evidence-media/logout/">' in prefixed
    assert '<a href="/dashboard/">' in plain and '<a href="/dashboard/">' in again
    assert "/evidence-media/" not in again
