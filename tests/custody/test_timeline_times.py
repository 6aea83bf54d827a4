"""A timeline entry's time is formatted in Python once per entry, as the template's date filters formatted it."""

from datetime import UTC, datetime

import pytest
from django.template.defaultfilters import date
from django.utils import timezone

from custody.timeline import recorded_at_texts


@pytest.mark.parametrize("zone", ["UTC", "Europe/London", "America/New_York"])
@pytest.mark.parametrize(
    "moment",
    [datetime(2026, 11, 30, 13, 20, 5, tzinfo=UTC), datetime(2026, 7, 1, 0, 0, 0, 123456, tzinfo=UTC)],
)
def test_the_texts_are_those_of_the_date_filters(zone, moment):
    with timezone.override(zone):
        shown = recorded_at_texts(moment)
        expected = (date(timezone.localtime(moment), "c"), date(timezone.localtime(moment), "Y-m-d H:i:s e"))

    assert shown == expected
