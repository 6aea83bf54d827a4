"""The label of a field's choice, found without translating the field's other labels."""

from django.db import models


class ChoiceLabels(models.Model):
    """Gives every `get_<field>_display` of a model the label of its value alone.

    Django's generated method makes a dict of the field's choices to look the value up, and hashing a choice hashes
    its lazily translated label, which translates it: each call translated every label of the field (the dozen
    entries of the dashboard's activity some 700 times, a case list's statuses a few hundred). This one compares
    the values and translates the label it returns. An unknown value is returned as it is, as Django's does."""

    class Meta:
        abstract = True

    def _get_FIELD_display(self, field):
        value = getattr(self, field.attname)
        for choice, label in field.flatchoices:
            if choice == value:
                return str(label)
        return value
