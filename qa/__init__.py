"""Retrieval and answers: the retriever, its legs and fusions, routing and answer choice.

Sits above ``index`` (the stored snapshot) and below the faces (``api``,
``eval``, ``cli``); ground types, errors and settings come from ``core``.
"""
