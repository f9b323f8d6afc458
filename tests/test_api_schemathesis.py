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

import jsonschema
import pytest
import schemathesis
from fastapi.testclient import TestClient
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
    "GET /documents/{document_id}/file",
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


# -- schemathesis --checks all: each streamed event matches the documented event schema ------


def test_every_streamed_chat_event_matches_the_documented_event_schema(client: TestClient) -> None:
    # Schemathesis (ST108) parses a text/event-stream into events ({"data", "event"}) and validates
    # each against the media type's schema; it was documented as a plain string.
    operation = client.get("/openapi.json").json()["paths"]["/v1/chat/completions"]["post"]
    schema = operation["responses"]["200"]["content"]["text/event-stream"]["schema"]
    body = {"model": "policyqa", "stream": True, "messages": [{"role": "user", "content": "What does PA 2.6 say?"}]}
    stream = client.post("/v1/chat/completions", json=body).text
    events = [
        {"event": "message", "data": "\n".join(line[len("data: ") :] for line in block.splitlines())}
        for block in stream.strip().split("\r\n\r\n" if "\r\n\r\n" in stream else "\n\n")
    ]
    assert len(events) >= 3 and events[-1]["data"] == "[DONE]"
    for event in events:
        jsonschema.validate(event, schema)
