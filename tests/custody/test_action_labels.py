"""A ledger entry's action label (dashboard activity, custody pages) is the label of its Action, looked up alone
rather than by translating every label of the field as Django's generated get_action_display does."""

import pytest
from django.db.models import Model

from custody.models import Action, CustodyEvent


@pytest.mark.parametrize("action", list(Action))
def test_the_label_is_the_one_django_would_show(action):
    event = CustodyEvent(action=action.value)
    django_label = Model._get_FIELD_display(event, CustodyEvent._meta.get_field("action"))

    assert event.get_action_display() == django_label == str(action.label)


def test_an_action_no_longer_named_shows_as_recorded():
    assert CustodyEvent(action="retired.action").get_action_display() == "retired.action"
