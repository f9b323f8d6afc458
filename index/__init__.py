"""Index stage: passages from parsed reports, embedded into FAISS, with BM25.

``build_index`` turns the corpus into a persisted snapshot; ``load_index``
reads one back for searching (it never rebuilds anything).
"""

from index.build import build_index, collect_passages
from index.chunk import chunk_document, clean_text, count_tokens, make_label
from index.embed import Embedder, SentenceTransformerEmbedder
from index.fingerprint import fingerprint
from index.store import StoredIndex, load_index

__all__ = [
    "Embedder",
    "SentenceTransformerEmbedder",
    "StoredIndex",
    "build_index",
    "chunk_document",
    "clean_text",
    "collect_passages",
    "count_tokens",
    "fingerprint",
    "load_index",
    "make_label",
]
