"""policyqa core: shared types, errors and settings, and the retriever.

The types and errors are imported eagerly (they depend on nothing); the
retriever is loaded on first use so that ``corpus`` and ``index`` can import
``qa.types`` without pulling in torch and FAISS.
"""
