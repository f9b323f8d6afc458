"""OpenAI-compatible chat: ``/v1/models`` and ``/v1/chat/completions`` (plain or streamed), with citations."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from fastapi.sse import EventSourceResponse, format_sse_event

from api.convert import page_range
from api.deps import ERRORS, INPUT_ERRORS, LOOKUP_ERRORS, Loaded, Ready
from api.schemas import (
    ChatChoice,
    ChatCitation,
    ChatCompletion,
    ChatCompletionRequest,
    ChatMessageOut,
    ModelList,
    ModelOut,
)
from core.errors import InvalidQueryError, NotFoundError, shown
from core.types import Passage
from qa.display import display_text, page_note

__all__ = ["MODEL_ID", "router"]

MODEL_ID = "policyqa"
"""The one model name the chat endpoint answers to."""

_CHAT_TOP_K = 5  # passages searched per chat question
_CHAT_SOURCES = 3  # numbered sources listed under a reply
# The framing around quoted text, per question language. Quotes and labels stay the reports'
# verbatim English: a machine-translated citation would no longer be a citation.
_NO_ANSWER = {
    "en": "No passage of the reports answers this closely enough. "
    "Try other words, or name a report or a section (e.g. 'priority action 2.6').",
    "es": "Ningún pasaje de los informes responde a esto con suficiente precisión. "
    "Pruebe con otras palabras, o nombre un informe o una sección (p. ej., 'acción prioritaria 2.6').",
}
_SOURCES = {"en": "Sources:", "es": "Fuentes (texto original en inglés):"}


router = APIRouter()


@router.get(
    "/v1/models",
    operation_id="list_models",
    summary="OpenAI-compatible model list",
    description="Lists the one model, `policyqa`, for OpenAI clients and chat frontends.",
    response_model=ModelList,
    responses=ERRORS,
    tags=["openai"],
)
async def list_models(loaded: Ready) -> ModelList:
    return ModelList(data=[ModelOut(id=MODEL_ID, created=loaded.created, owned_by=MODEL_ID)])


def _reply(loaded: Loaded, question: str) -> tuple[str, list[ChatCitation]]:
    """The reply text (answer, then numbered sources) and its citations."""
    retriever = loaded.retriever
    answered = retriever.ask(question, k=_CHAT_TOP_K)
    hits, answer = answered.hits, answered.answer
    lang = answered.language
    if answer is None:
        return _NO_ANSWER[lang], []
    citations = [_chat_citation(loaded, 1, answer.passage, answer.start, answer.end)]
    seen = {answer.passage.section_id}
    for h in hits:
        if len(citations) == _CHAT_SOURCES:
            break
        if h.passage.section_id not in seen:
            seen.add(h.passage.section_id)
            citations.append(_chat_citation(loaded, len(citations) + 1, h.passage, h.passage.start, h.passage.end))
    sources = "\n".join(f"[{c.index}] {c.label}{page_note(c.pages)} ({c.section_id})" for c in citations)
    return f"{display_text(answer)} [1]\n\n{_SOURCES[lang]}\n{sources}", citations


def _chat_citation(loaded: Loaded, n: int, p: Passage, start: int, end: int) -> ChatCitation:
    return ChatCitation(
        index=n,
        passage_id=p.id,
        section_id=p.section_id,
        document_id=p.document_id,
        label=p.label,
        char_start=start,
        char_end=end,
        pages=page_range(loaded, p.document_id, start, end),
    )


def _question(body: ChatCompletionRequest) -> str:
    if body.model != MODEL_ID:
        raise NotFoundError(f"model {shown(body.model)} does not exist; valid: {MODEL_ID}")
    for message in reversed(body.messages):
        if message.role == "user":
            return message.text()
    raise InvalidQueryError("messages hold no user message; the last user message is the question")


def _stream(completion_id: str, created: int, content: str, citations: list[ChatCitation]) -> Iterator[bytes]:
    """The reply as OpenAI ``chat.completion.chunk`` events: role, content line by line, stop, [DONE]."""

    def chunk(delta: dict[str, str], finish: str | None, **extra: Any) -> str:
        payload = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL_ID,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return format_sse_event(data_str=json.dumps(payload, ensure_ascii=False))

    yield chunk({"role": "assistant", "content": ""}, None)
    for line in content.splitlines(keepends=True):
        yield chunk({"content": line}, None)
    # The structured citations ride on the last chunk, as the reply is complete then.
    yield chunk({}, "stop", citations=[c.model_dump() for c in citations])
    yield format_sse_event(data_str="[DONE]")


@router.post(
    "/v1/chat/completions",
    operation_id="chat_completions",
    summary="OpenAI-compatible chat completion with structured citations",
    description=(
        "Answers the last user message from the reports. The reply is the extractive answer marked [1], "
        "followed by numbered sources with their citation labels and section ids. Besides the OpenAI "
        "fields the response carries `citations`: for each numbered source its passage id, section id, "
        "label and character span (the span of [1] is the answering sentence). With `stream: true` the "
        "reply comes as OpenAI server-sent events (`chat.completion.chunk`, then `data: [DONE]`); "
        "`citations` rides on the final chunk."
    ),
    response_model=ChatCompletion,
    responses={
        **INPUT_ERRORS,
        **LOOKUP_ERRORS,
        200: {
            "description": "The completion (JSON), or its chunks when `stream` is true.",
            # One server-sent event (OpenAPI 3.1 gives a text/event-stream schema per event):
            # its data is a chat.completion.chunk as JSON, or the closing [DONE].
            "content": {
                "text/event-stream": {
                    "schema": {
                        "type": "object",
                        "required": ["data"],
                        "properties": {
                            "data": {
                                "type": "string",
                                "description": "A `chat.completion.chunk` object as JSON, or `[DONE]` last.",
                            },
                            "event": {"type": "string"},
                        },
                    }
                }
            },
        },
    },
    tags=["openai"],
)
def chat_completions(body: ChatCompletionRequest, loaded: Ready) -> Any:
    question = _question(body)
    content, citations = _reply(loaded, question)
    completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    created = int(time.time())
    if body.stream:
        return EventSourceResponse(_stream(completion_id, created, content, citations))
    completion = ChatCompletion(
        id=completion_id,
        created=created,
        model=MODEL_ID,
        choices=[ChatChoice(message=ChatMessageOut(content=content))],
        citations=citations,
    )
    return JSONResponse(completion.model_dump())
