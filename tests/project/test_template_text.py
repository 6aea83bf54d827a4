"""Every user-facing string of the site's templates goes through a translation tag, so an organisation can add its
language: the visible text and the read attributes (title, alt, placeholder, aria-label) of every template under
templates/ and the apps' templates/ folders are inside {% translate %} or {% blocktranslate %}."""

from pathlib import Path

import pytest

from tests.project.template_text import untranslated

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(
    path.relative_to(ROOT)
    for pattern in ("templates/**/*.html", "templates/**/*.txt", "*/templates/**/*.html", "*/templates/**/*.txt")
    for path in ROOT.glob(pattern)
    if ".venv" not in path.parts
)


def test_the_templates_are_found():
    assert Path("templates/base.html") in TEMPLATES
    assert Path("custody/templates/custody/case_custody.html") in TEMPLATES


@pytest.mark.parametrize("template", TEMPLATES, ids=str)
def test_template_has_no_visible_text_outside_translation_tags(template):
    assert untranslated((ROOT / template).read_text()) == []


@pytest.mark.parametrize(
    "source,found",
    [
        ("<p>Hello</p>", ["line 1: Hello"]),
        ('<p>{% translate "Hello" %}</p>', []),
        ("<p>Seen by {{ user }} today</p>", ["line 1: Seen by today"]),
        ("<p>{% blocktranslate %}Seen by {{ user }}{% endblocktranslate %}</p>", []),
        ('<button title="Copy it">{% translate "Copy" %}</button>', ["line 1 (title): Copy it"]),
        ('<a aria-label="{% translate "Copy" %}" href="/x/y">{{ n }}</a>', []),
        ('<td>{{ when|default:"never" }}</td>', ['line 1: default shows "never"']),
        ('<td>{{ when|date:"Y-m-d H:i" }} · {{ who }} — #{{ n }}</td>', []),
        ("<style>p { color: red }</style><script>let a = 1;</script>", []),
        ("{% comment %}Not shown{% endcomment %}<!-- nor this -->{# nor this #}", []),
        ('<input name="q" value="{{ q }}" class="wide">', []),
        ("<ul>\n  <li>One</li>\n</ul>", ["line 2: One"]),
    ],
)
def test_the_checker_finds_untranslated_text_and_only_that(source, found):
    assert untranslated(source) == found
