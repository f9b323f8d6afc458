"""Property-based run of every API operation against its own OpenAPI schema (schemathesis).

Each operation gets generated valid and invalid requests over the fake
index; every response must be no 5xx and must match the status codes,
content types and response schemas the OpenAPI description declares.
The cases are drawn from schemathesis' Hypothesis strategies directly: its
pytest plugin does not run under this pytest version.

One check is left out: ``positive_data_acceptance`` expects every
schema-valid request to succeed, but which filter values exist ("objective
12" does, "objective 99" does not) is data, not schema; such requests are
refused with 422 and the list of valid values, on purpose.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from api.app import create_app
from qa.retrieve import Retriever

OPERATIONS = [
    "POST /search",
    "GET /search",
    "GET /sections/{section_id}",
    "GET /passages/{passage_id}",
    "GET /documents",
    "GET /documents/{document_id}/outline",
    "GET /filters",
    "GET /healthz",
    "GET /readyz",
    "GET /v1/models",
    "POST /v1/chat/completions",
]


@pytest.fixture(scope="module")
def api_schema(fake_retriever: Retriever) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(retriever=fake_retriever))


def test_every_operation_is_fuzzed(api_schema: schemathesis.BaseSchema) -> None:
    labels = {result.ok().label for result in api_schema.get_all_operations()}
    assert labels == set(OPERATIONS)


# Operations with constrained input; the others (free-form ids, no input) have no invalid requests.
CONSTRAINED = ["POST /search", "GET /search", "POST /v1/chat/completions"]
CASES = [(label, GenerationMode.POSITIVE) for label in OPERATIONS] + [
    (label, GenerationMode.NEGATIVE) for label in CONSTRAINED
]


@pytest.mark.parametrize(("label", "mode"), CASES, ids=[f"{label} {mode.value}" for label, mode in CASES])
def test_operation_conforms_to_its_schema(
    api_schema: schemathesis.BaseSchema, label: str, mode: GenerationMode
) -> None:
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None

    # 20 cases per operation and mode keep the whole run to a few seconds.
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(excluded_checks=[positive_data_acceptance])

    check()
