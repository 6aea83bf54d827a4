"""Every user-facing string of the project's Python code goes through a translation function, so an organisation can
add its language: no string literal reaches a person through a message, a refusal, an error body, a form or model
label or a choice (tests/project/python_text.py); every form field of the project has a translated label; and with a
catalogue that translates every message of locale/, a page and the API's errors come out translated.

Left in English on purpose, and so outside the check: custody ledger action codes, rule ids and machine-readable
codes; the findings and verdict sentence of an analysis (part of the stored, signed result); the type-mismatch notes
recorded in the ledger with each received item; log messages; management command output; the API schema's
descriptions (serializer help texts and filter labels, documentation for developers)."""

import ast
import shutil
import subprocess
from pathlib import Path

import pytest
from django import forms
from django.utils.functional import Promise

from cases import services
from cases.models import EvidenceItem
from custody.models import CustodyEvent
from tests.conftest import PASSWORD
from tests.project.python_text import untranslated, untranslated_in_trees

ROOT = Path(__file__).resolve().parents[2]
APPS = ("cases", "custody", "encryption", "evidencemedia", "forensics", "reports")
# Operators' command-line output and schema history are not read in a person's language.
SKIPPED_FOLDERS = frozenset({"migrations", "management"})
MODULES = sorted(
    path.relative_to(ROOT)
    for app in APPS
    for path in (ROOT / app).rglob("*.py")
    if not SKIPPED_FOLDERS & set(path.relative_to(ROOT).parts)
)
CATALOGUE = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
PSEUDO_LANGUAGE = "en-xa"  # Android's pseudo-locale code: English, every message marked
OPEN, CLOSE = "⟪", "⟫"


def test_the_modules_are_found():
    assert Path("cases/forms.py") in MODULES and Path("reports/verification.py") in MODULES
    assert not any("migrations" in path.parts for path in MODULES)


def test_no_user_facing_string_literal_bypasses_translation():
    trees = {str(path): ast.parse((ROOT / path).read_text()) for path in MODULES}
    assert untranslated_in_trees(trees) == {}


@pytest.mark.parametrize(
    "source,found",
    [
        ('messages.success(request, "Saved.")', ["line 1 (messages.success): Saved."]),
        ('messages.success(request, _("Saved."))', []),
        ('messages.error(request, f"Case {ref} closed.")', ["line 1 (messages.error): Case  closed."]),
        ('messages.error(request, _("Case %(r)s closed.") % {"r": ref})', []),
        ("messages.error(request, refusal.message)", []),  # made elsewhere, where it is checked
        ('raise PermissionDenied("Not yours.")', ["line 1 (PermissionDenied): Not yours."]),
        ('raise Http404("Gone " + name)', ["line 1 (Http404): Gone "]),
        ('raise ValidationError({"name": ["Too long."]})', ["line 1 (ValidationError): Too long."]),
        ('form.add_error("days", "Say how many.")', ["line 1 (add_error): Say how many."]),
        ('return Response({"detail": "Nope.", "code": "nope"})', ["line 1 (detail of an API body): Nope."]),
        (
            "class Gone(Refused):\n    def __init__(self):\n        super().__init__('It is gone.')",
            ["line 3 (Gone message): It is gone."],
        ),
        (
            "class Gone(Refused):\n    pass\nclass Late(Gone):\n    pass\nraise Late('Too late.')",
            ["line 5 (Late): Too late."],
        ),
        ("x = forms.CharField(label='Title', max_length=3)", ["line 1 (CharField label): Title"]),
        ("x = forms.CharField(label=_('Title'), help_text='Short.')", ["line 1 (CharField help_text): Short."]),
        ("x = forms.ChoiceField(choices=[('on', 'On'), ('off', _('Off'))])", ["line 1 (ChoiceField choice label): On"]),
        ("class Kind(models.TextChoices):\n    A = 'a', 'Ay'\n    B = 'b', _('B')", ["line 2 (Kind choice label): Ay"]),
        ("class P(BasePermission):\n    message = 'Members only.'", ["line 2 (P.message): Members only."]),
        ("class E(APIException):\n    default_detail = 'Wrong.'", ["line 2 (E.default_detail): Wrong."]),
        ("send_mail('Your reset', body, sender, [to])", ["line 1 (send_mail): Your reset"]),
        ('logger.warning("Not shown to a person: %s", x)', []),
        ('raise ValueError("A programming error, not a refusal.")', []),
        ('messages.info(request, "%(n)d" % {"n": 3})', []),  # no words to translate
    ],
)
def test_the_checker_finds_untranslated_user_facing_strings_and_only_those(source, found):
    assert untranslated(source) == found


def _project_form_classes() -> list[type[forms.BaseForm]]:
    # Every module that may define one (settings modules define none, and production's needs its secrets).
    for path in MODULES:
        if "Form" in (ROOT / path).read_text() and "settings" not in path.parts:
            __import__(".".join(path.with_suffix("").parts))
    found, pending = [], [forms.BaseForm]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in APPS:
            found.append(cls)
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def _own_fields(cls: type[forms.BaseForm]) -> dict[str, forms.Field]:
    """The fields the project declares (Django's own forms' fields come with Django's translated labels)."""
    inherited = set()
    for base in cls.__mro__[1:]:
        if base.__module__.split(".")[0] not in APPS:
            inherited |= set(getattr(base, "declared_fields", {}))
    return {name: field for name, field in cls.declared_fields.items() if name not in inherited}


def untranslated_field_texts(cls: type[forms.BaseForm]) -> list[str]:
    """Fields without a translated label (Django would show the field's name, in English), or with a help text or a
    choice label that is plain text."""
    problems = []
    for name, field in _own_fields(cls).items():
        if not isinstance(field.label, Promise):
            problems.append(f"{name}: label {field.label!r}")
        if field.help_text and not isinstance(field.help_text, Promise):
            problems.append(f"{name}: help text {field.help_text!r}")
        for _value, label in getattr(field, "choices", []) if not hasattr(field, "queryset") else []:
            if not isinstance(label, Promise):
                problems.append(f"{name}: choice {label!r}")
    return problems


def test_the_project_forms_are_found():
    names = {cls.__qualname__ for cls in _project_form_classes()}
    assert {"CaseForm", "TokenNameForm", "SignOffForm", "ReportVerifyForm", "RecordedPasswordChangeForm"} <= names


@pytest.mark.parametrize("form_class", _project_form_classes(), ids=lambda cls: f"{cls.__module__}.{cls.__qualname__}")
def test_every_form_field_of_the_project_has_a_translated_label(form_class):
    assert untranslated_field_texts(form_class) == []


def test_the_form_check_finds_a_field_without_a_translated_label():
    from django.utils.translation import gettext_lazy

    class Careless(forms.Form):
        named = forms.CharField()  # Django would show "Named"
        plain = forms.CharField(label="Plain", help_text=gettext_lazy("Fine."))
        kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=[("a", "Ay"), ("b", gettext_lazy("Bee"))])
        fine = forms.CharField(label=gettext_lazy("Fine"), help_text=gettext_lazy("Fine."))

    assert untranslated_field_texts(Careless) == ["named: label None", "plain: label 'Plain'", "kind: choice 'Ay'"]


@pytest.fixture
def pseudo_language(settings, tmp_path):
    """A language whose catalogue translates every message of the committed English catalogue into itself between
    ⟪ and ⟫, made by GNU gettext's msgen and msgfilter and compiled by msgfmt as `compilemessages` does: text that
    comes out unmarked did not go through the catalogue."""
    tools = ("msgen", "msgfilter", "msgfmt")
    if not all(map(shutil.which, tools)):
        pytest.skip("GNU gettext (msgen, msgfilter, msgfmt) is not installed; scripts/setup.sh installs it")
    messages = tmp_path / "en_XA" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    english, marked = tmp_path / "english.po", messages / "django.po"
    subprocess.run(["msgen", "-o", str(english), str(CATALOGUE)], check=True)
    mark = ["sed", "-e", f"1s/^/{OPEN}/", "-e", f"$s/$/{CLOSE}/"]
    subprocess.run(["msgfilter", "--keep-header", "-i", str(english), "-o", str(marked), *mark], check=True)
    # makemessages leaves its header fuzzy, and msgfmt skips a fuzzy header with its charset (UTF-8 for the marks).
    marked.write_text(marked.read_text().replace('#, fuzzy\nmsgid ""\nmsgstr ""\n', 'msgid ""\nmsgstr ""\n', 1))
    subprocess.run(["msgfmt", "--check-format", "-o", str(messages / "django.mo"), str(marked)], check=True)
    settings.LOCALE_PATHS = [tmp_path]
    settings.LANGUAGES = [("en-gb", "English"), (PSEUDO_LANGUAGE, "Pseudo-English")]
    return PSEUDO_LANGUAGE


def test_the_pseudo_catalogue_marks_messages_and_keeps_placeholders(pseudo_language):
    from django.utils import translation

    with translation.override(pseudo_language):
        # Passed as variables: makemessages must not find these in the tests and put them in the catalogue.
        known, unknown = "Case %(reference)s created.", "Not a message of the catalogue"
        assert translation.gettext(known) == f"{OPEN}{known}{CLOSE}"
        assert translation.gettext(unknown) == unknown


def test_a_page_comes_out_translated(client, alpha, pseudo_language):
    # given an auditor browsing in the pseudo language
    client.login(username=alpha.auditor.username, password=PASSWORD)
    headers = {"HTTP_ACCEPT_LANGUAGE": pseudo_language}

    # when they try what their role does not allow, and open a case's page
    refused = client.post(f"/cases/{alpha.case.public_id}/evidence/", **headers).content.decode()

    # then the reason, made in Python from the role's and the scope's labels, is translated, and so is the layout
    reason = f"Your role ({OPEN}Auditor{CLOSE}) cannot do this: {OPEN}upload evidence{CLOSE} is not part of it."
    assert f"{OPEN}{reason}{CLOSE}" in refused
    assert f"{OPEN}Back to the dashboard{CLOSE}" in refused


def test_form_labels_and_messages_come_out_translated(client, alpha, pseudo_language):
    client.login(username=alpha.investigator.username, password=PASSWORD)
    headers = {"HTTP_ACCEPT_LANGUAGE": pseudo_language}

    form = client.get("/cases/new/", **headers).content.decode()
    created = client.post("/cases/new/", {"title": "Pseudo", "description": ""}, follow=True, **headers)

    assert f">{OPEN}Title{CLOSE}" in form and f">{OPEN}Description{CLOSE}" in form
    reference = created.context["case"].reference
    assert f"{OPEN}Case {reference} created.{CLOSE}" in created.content.decode()


def test_the_case_lists_rows_come_out_translated(client, alpha, alpha_item, pseudo_language):
    EvidenceItem.objects.filter(pk=alpha_item.pk).update(assessment={"editing": {"state": "found"}})
    client.login(username=alpha.investigator.username, password=PASSWORD)

    page = client.get("/cases/", HTTP_ACCEPT_LANGUAGE=pseudo_language).content.decode()

    assert f'<span class="badge badge-caution">{OPEN}1 edited{CLOSE}</span>' in page
    assert f'<span class="status status-open">{OPEN}Open{CLOSE}</span>' in page
    assert f" by {alpha.investigator.username}{CLOSE}</td>" in page


def test_the_evidence_pages_custody_timeline_comes_out_translated(client, alpha, alpha_item, pseudo_language):
    client.login(username=alpha.supervisor.username, password=PASSWORD)

    page = client.get(f"/evidence/{alpha_item.public_id}/", HTTP_ACCEPT_LANGUAGE=pseudo_language).content.decode()

    received = CustodyEvent.objects.get(evidence=alpha_item, action="evidence.received").sequence
    assert f"<br>{OPEN}alpha-investigator received photo.jpg.{CLOSE}</p>" in page
    assert f'data-copy-label="{OPEN}SHA-256{CLOSE}"' in page
    assert (
        f'aria-label="{OPEN}Copy from ledger entry {received}: {OPEN}SHA-256{CLOSE}{CLOSE}">{OPEN}Copy{CLOSE}' in page
    )
    assert f"<summary>{OPEN}Signed ledger entry{CLOSE}</summary>" in page


def test_api_errors_come_out_translated(client, alpha, beta, pseudo_language):
    _, secret = services.api_token_create(user=alpha.auditor, name="pseudo")
    headers = {"HTTP_AUTHORIZATION": f"Token {secret}", "HTTP_ACCEPT_LANGUAGE": pseudo_language}

    forbidden = client.post(f"/api/v1/cases/{alpha.case.public_id}/evidence/", **headers).json()
    foreign = client.get(f"/api/v1/cases/{beta.case.public_id}/", **headers).json()
    unknown = client.get("/api/v1/no-such-thing/", **headers).json()

    assert forbidden["detail"] == (
        f"{OPEN}Your role ({OPEN}Auditor{CLOSE}) cannot do this: {OPEN}upload evidence{CLOSE} is not part of it.{CLOSE}"
    )
    assert foreign["detail"].startswith(f"{OPEN}There is no {OPEN}case{CLOSE} at this address that you can see.")
    assert unknown["detail"].startswith(f"{OPEN}Nothing is at this address") and unknown["code"] == "not_found"


def test_a_revoked_signers_trust_sentence_comes_out_translated(pseudo_language):
    from django.utils import translation

    from reports.verification import SignatureFacts

    facts = SignatureFacts(
        signer="CN=Signer",
        chain=["CN=Root"],
        self_signed=False,
        level="B-T",
        timestamp=None,
        timestamp_authority="",
        timestamp_trusted=False,
        trusted=False,
        trusted_root="",
        roots_configured=True,
        revoked=True,
    )
    with translation.override(pseudo_language):
        sentence = facts.trust_sentence

    assert sentence.startswith(f"{OPEN}The signer is not trusted: its CA has revoked") and sentence.endswith(CLOSE)
