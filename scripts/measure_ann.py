"""Measure the dense index's choices at scale: exact scan cost by size, HNSW recall and speed by parameter.

Usage: .venv/bin/python scripts/measure_ann.py DATA_DIR [--m 16 32] [--ef-construction 80] [--ef-search 32 64 128]

DATA_DIR holds a snapshot (``DATA_DIR/current``), e.g. a synthetic collection
kept by ``eval.synth.write_synthetic``. The query vectors are the English gold
questions encoded by the live index's query encoder (MiniLM, int8 ONNX). Prints:

- the exact (flat) FAISS search as the store runs it (every passage scored)
  on the first n passages, for several n: CPU ms per query, so the flat/HNSW
  threshold (``POLICYQA_ANN_MIN_PASSAGES``) can be set where it stops being cheap;
- for each HNSW M and efConstruction: build time; for each efSearch: recall@10
  against exact and CPU ms per query. These chose the ``hnsw_*`` settings' defaults.

CPU time rather than wall clock: the machine is shared and wall times swing with other jobs.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _cpu_ms(fn, queries: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    fn(queries[0])
    c0 = time.process_time()
    for q in queries:
        fn(q)
    return (time.process_time() - c0) * 1000 / len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--m", type=int, nargs="+", default=[16, 32])
    parser.add_argument("--ef-construction", type=int, nargs="+", default=[80])
    parser.add_argument("--ef-search", type=int, nargs="+", default=[32, 64, 128, 256])
    args = parser.parse_args()

    import faiss

    from core.settings import get_settings
    from eval.gold import GOLD_PATH, load_gold_sets
    from index.ann import DenseSpec, build_dense, search_dense, storage_vectors
    from index.store import load_index
    from qa.encode import query_embedder, single_threaded_blas

    single_threaded_blas()
    faiss.omp_set_num_threads(1)
    index = load_index(args.data_dir / "current")
    vectors = np.ascontiguousarray(storage_vectors(index.dense))
    encoder = query_embedder(get_settings(), index)
    queries = encoder.encode([q.question for q in load_gold_sets([GOLD_PATH])])
    n = len(vectors)
    print(f"{n} passages, {len(queries)} English questions")
    exact = [set(np.argsort(-(vectors @ q), kind="stable")[:10].tolist()) for q in queries]

    for size in sorted({min(n, s) for s in (705, 2000, 5000, 10000, 20000, n)}):
        flat = build_dense(vectors[:size], DenseSpec("flat"))
        ms = _cpu_ms(lambda q, flat=flat: search_dense(flat, q, None, None), queries)
        print(f"flat, {size} passages: {ms:.2f} ms a query (all scored)")

    for m in args.m:
        for efc in args.ef_construction:
            t0 = time.perf_counter()
            c0 = time.process_time()
            hnsw = build_dense(vectors, DenseSpec("hnsw", m, efc, max(args.ef_search)))
            built = time.perf_counter() - t0
            cpu = time.process_time() - c0
            for ef in args.ef_search:
                hnsw.hnsw.efSearch = ef
                found = 0
                for q, want in zip(queries, exact, strict=True):
                    dist, idx = search_dense(hnsw, q, None, 10)
                    found += len(want & set(idx[np.argsort(-dist, kind="stable")][:10].tolist()))
                recall = found / (10 * len(queries))
                ms = _cpu_ms(lambda q, h=hnsw: search_dense(h, q, None, None), queries)
                print(
                    f"HNSW M {m} efConstruction {efc} (built in {built:.0f} s, {cpu:.0f} s CPU): "
                    f"efSearch {ef}: recall@10 {recall:.4f}, {ms:.2f} ms a query"
                )


if __name__ == "__main__":
    main()
