"""A field's choice label (`get_<field>_display`: case status, verdict, custody action, role ...) is the label
Django's generated method gives, found by translating that label alone: Django's translates every label of the field
on each call (it hashes the choices), a cost each row of a page paid."""

from unittest import mock

import pytest
from django.apps import apps
from django.db.models import Model
from django.utils import translation

from cases.choice_labels import ChoiceLabels
from cases.models import Case, CaseStatus
from custody.models import CustodyEvent

PROJECT_APPS = ("cases", "custody", "encryption", "forensics", "reports")


def choice_fields():
    for app in PROJECT_APPS:
        for model in apps.get_app_config(app).get_models():
            for field in model._meta.concrete_fields:
                if field.choices:
                    yield model, field


@pytest.mark.parametrize(("model", "field"), list(choice_fields()), ids=lambda value: getattr(value, "name", ""))
def test_every_label_is_the_one_django_would_show(model, field):
    assert issubclass(model, ChoiceLabels), f"{model.__name__} shows its choices through Django's generated method"
    for value, label in field.flatchoices:
        instance = model(**{field.attname: value})
        shown = getattr(instance, f"get_{field.name}_display")()
        assert shown == Model._get_FIELD_display(instance, field) == str(label)


def test_a_value_no_longer_among_the_choices_shows_as_recorded():
    assert CustodyEvent(action="retired.action").get_action_display() == "retired.action"
    assert Case(status="").get_status_display() == ""


def test_only_the_shown_label_is_translated():
    case = Case(status=CaseStatus.UNDER_REVIEW)
    with (
        translation.override("en-gb"),
        mock.patch.object(translation._trans, "gettext", wraps=translation._trans.gettext) as translate,
    ):
        shown = case.get_status_display()

    assert shown == "Under review"
    assert [call.args[0] for call in translate.call_args_list] == ["Under review"]
