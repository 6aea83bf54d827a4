"""The retention tests' fixtures (received-and-analysed items, generated reports), shared here."""

from tests.retention.conftest import analysed, generate  # noqa: F401
