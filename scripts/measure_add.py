"""Measure adding the MEM report to a running server: the command, the reload, and each step of the build.

Usage: .venv/bin/python scripts/measure_add.py WORK_DIR --seed-cache data/embeddings [--profile OUT.prof]

What a staff member does (README "Add a report"), with the other four bundled
reports already built and served:

1. ``WORK_DIR/corpus``: the bundled corpus less ``mem-mexico-2024``;
   ``WORK_DIR/data/embeddings``: the seed cache cut down to the texts those
   four reports embed (so the four are not embedded again, and MEM's texts
   are not in it: the state after a cold build of the four), and the seed's
   kept ONNX exports (``exports/``), which that cold build would have made;
2. ``policyqa build`` of the four (every text a cache hit), ``policyqa serve``
   (reload check every 0.25 s);
3. ``policyqa add corpus/mem-mexico-2024.txt --id mem-mexico-2024``, timed
   (wall, and the child's CPU seconds), until ``/readyz`` names the new build.

Prints the add's wall and CPU seconds and the build's ``timings`` (its
manifest: each step's wall and CPU seconds, each leg's texts encoded and
rate). With ``--profile`` the add runs under cProfile into OUT.prof instead
of being timed plainly. CPU seconds are the figures to compare on a shared
machine; wall seconds swing with other jobs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from core.settings import PROJECT_ROOT, Settings
from eval.bench import _run_cli
from eval.bench_build import ADDED_REPORT, corpus_without, snapshot_timings
from eval.server import served_build, serving, wait_ready
from index.chunk import collect_passages
from index.legs import leg_texts


def _seed(seed_cache: Path, cache_dir: Path, corpus_dir: Path) -> int:
    """Copy each ``.npz`` of ``seed_cache`` into ``cache_dir``, keeping only the texts ``corpus_dir`` embeds."""
    passage_texts, _, _, unit_texts = leg_texts(*collect_passages(Settings(corpus_dir=corpus_dir)))
    wanted = {hashlib.sha256(t.encode("utf-8")).digest() for t in [*passage_texts, *unit_texts]}
    cache_dir.mkdir(parents=True, exist_ok=True)
    for path in seed_cache.glob("*.npz"):
        with np.load(path) as stored:
            keys, vectors = stored["keys"], stored["vectors"]
        keep = np.array([k.tobytes() in wanted for k in keys], dtype=bool)
        np.savez(cache_dir / path.name, keys=keys[keep], vectors=vectors[keep])
    for extra in seed_cache.glob("*.json"):
        shutil.copyfile(extra, cache_dir / extra.name)
    if (seed_cache / "exports").is_dir():  # what the four's cold build would have exported and kept
        shutil.copytree(seed_cache / "exports", cache_dir / "exports")
    return len(wanted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work_dir", type=Path)
    parser.add_argument("--seed-cache", type=Path, required=True, help="an embedding cache holding the four's texts")
    parser.add_argument("--profile", type=Path, help="run the add under cProfile into this file")
    args = parser.parse_args()
    work = args.work_dir.resolve()
    shutil.rmtree(work, ignore_errors=True)
    corpus_dir, data_dir = work / "corpus", work / "data"
    source = PROJECT_ROOT / "corpus"
    corpus_without(source, corpus_dir, ADDED_REPORT)
    kept = _seed(args.seed_cache, data_dir / "embeddings", corpus_dir)
    print(f"seeded the cache with the four reports' {kept} texts", file=sys.stderr)
    env = {
        **os.environ,
        "POLICYQA_CORPUS_DIR": str(corpus_dir),
        "POLICYQA_DATA_DIR": str(data_dir),
        "POLICYQA_EMBEDDING_CACHE_DIR": str(data_dir / "embeddings"),
    }
    four = _run_cli(["build"], env)
    print(f"built the four: {four['seconds']:.1f} s, {four['cpu_s']:.1f} CPU s", file=sys.stderr)
    add = ["add", str(source / f"{ADDED_REPORT}.txt"), "--id", ADDED_REPORT]
    with serving(env, POLICYQA_RELOAD_INTERVAL="0.25") as (server, port):
        wait_ready(server, port)
        before = served_build(port)
        t0 = time.perf_counter()
        if args.profile:
            import subprocess

            cmd = [sys.executable, "-m", "cProfile", "-o", str(args.profile), "-m", "cli", *add]
            subprocess.run(cmd, env=env, check=True)
            child = {"seconds": time.perf_counter() - t0, "cpu_s": None}
        else:
            child = _run_cli(add, env)
        built = time.perf_counter() - t0
        while (served := served_build(port)) in (before, None):
            if server.poll() is not None or time.perf_counter() - t0 > 900:
                raise SystemExit("the server never served the new build")
            time.sleep(0.05)
        total = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "build_id": served,
                "add_s": round(built, 2),
                "add_cpu_s": child["cpu_s"],
                "until_served_s": round(total, 2),
                "reload_s": round(total - built, 2),
                "timings": snapshot_timings(data_dir),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
