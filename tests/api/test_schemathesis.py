"""Schemathesis against /api/schema/: every documented operation, called with generated data as an administrator
holding a token, must not fail on the server and must answer exactly as the schema says (status codes, content
types, bodies, headers). Ids in paths are swapped for those of seeded objects, so the operations reach real rows.

The schema is loaded once, when the module is collected, so that each operation is a test of its own."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from cases import services
from cases.models import EvidenceItem
from cases.services import api_token_create
from forensics.models import Analysis
from reports.services import report_request
from tests.conftest import jpeg_bytes, received

# A fixed seed and no example database: the same requests on every run and every machine.
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20260611,
        "generation": {"mode": "all", "max-examples": 12, "deterministic": True, "database": "none"},
        "phases": {
            "examples": {"enabled": True},
            "fuzzing": {"enabled": True},
            "coverage": {"enabled": True},
            "stateful": {"enabled": False},
        },
        # Valid and invalid data alike must never fail the server and must be answered as documented. Two checks
        # judge acceptance itself and are off: rules a schema cannot state (an existing username, the right
        # password, a non-empty file, no NUL characters) refuse some schema-valid requests with a documented 400,
        # and DRF accepts some schema-invalid ones on purpose (a number where text is expected, unknown query
        # parameters ignored).
        "checks": {"positive_data_acceptance": {"enabled": False}, "negative_data_rejection": {"enabled": False}},
    }
)

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=CONFIG)


@pytest.fixture
def connections_kept_open():
    """Django closes database connections when a request finishes, which would end the test's transaction on
    PostgreSQL; its test client holds that back, and so must a test that calls the WSGI application itself."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def seeded(alpha, django_capture_on_commit_callbacks) -> dict[str, str]:
    """Alpha's administrator with a token; a case with an analysed item and a generated report; an invitation; a
    token of another member, for the operations on tokens (revoking the administrator's own would end the run)."""
    # The test settings run tasks synchronously, once the transaction around them commits.
    with django_capture_on_commit_callbacks(execute=True):
        receipt = services.evidence_receive(case=alpha.case, received=received(jpeg_bytes()), actor=alpha.investigator)
    item = EvidenceItem.objects.get(pk=receipt.item.pk)
    with django_capture_on_commit_callbacks(execute=True):
        report = report_request(actor=alpha.admin, case=alpha.case, evidence=item)
    _, secret = api_token_create(user=alpha.admin, name="schemathesis", organisation=alpha.organisation)
    other, _ = api_token_create(user=alpha.auditor, name="to revoke", organisation=alpha.organisation)
    invitation = services.invitation_send(
        organisation=alpha.organisation, username="invitee", role="auditor", actor=alpha.admin
    )
    return {
        "invitation_id": str(invitation.public_id),
        "token_id": str(other.pk),
        "token": secret,
        "case_id": str(alpha.case.public_id),
        "evidence_id": str(item.public_id),
        "analysis_id": str(Analysis.objects.get(evidence=item).public_id),
        "report_id": str(report.public_id),
        "membership_id": str(alpha.organisation.memberships.get(user=alpha.auditor).public_id),
    }


@pytest.mark.django_db
@schema.parametrize()
# The seeded rows are meant to outlive single requests: examples build on each other as a client's calls would.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_api_conforms_to_its_schema(case, seeded, connections_kept_open):
    case.path_parameters = {name: seeded.get(name, value) for name, value in (case.path_parameters or {}).items()}
    case.call_and_validate(headers={"Authorization": f"Token {seeded['token']}"})
