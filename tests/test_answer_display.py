"""Headings and markdown markers are never an answer's words; the displayed answer drops the markers."""

from __future__ import annotations

import re

import pytest

from core.types import Answer, Filters
from qa.display import display_text
from qa.retrieve import Retriever

# -- 12. headings and markdown markers are never an answer's words ---------------------------


@pytest.mark.e2e
def test_a_filtered_question_is_not_answered_with_a_heading(real_retriever: Retriever) -> None:
    # It was: "##### **Foster ongoing training…**", a priority action's heading.
    answered = real_retriever.ask("certification of treatment staff", filters=Filters(thematic_area="prevention"))
    answer = answered.answer
    assert answer is not None
    assert not answer.text.lstrip().startswith("#") and not answer.text.strip().startswith("**")
    assert not re.search(r"#{2,}|\*\*|__", display_text(answer))


def test_the_display_text_drops_markdown_markers_and_keeps_the_words(fake_retriever: Retriever) -> None:
    # Elementa puts emphasis inside sentences; the answer's span stays verbatim, what is shown does not.
    passage = next(p for p in fake_retriever.index.passages if "**war-oriented strategy**" in p.text)
    start = passage.text.index("Throughout the administration")
    end = passage.text.index(".", start) + 1
    answer = Answer(passage.text[start:end], 0.9, passage, passage.start + start, passage.start + end)
    shown_text = display_text(answer)
    assert "**" not in shown_text and "the war-oriented strategy to combat" in shown_text


def test_the_display_text_drops_a_marker_closed_after_punctuation(fake_retriever: Retriever) -> None:
    # One marker rule for passages and answers: "CIJ.*)" kept its asterisk in the answer's own copy.
    passage = fake_retriever.index.passages[0]
    text = "(*Centros de Integración Juvenil, A.C. - CIJ.*)"
    answer = Answer(text, 0.9, passage, passage.start, passage.start + len(text))
    assert display_text(answer) == "(Centros de Integración Juvenil, A.C. - CIJ.)"
