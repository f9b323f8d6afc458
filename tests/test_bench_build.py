"""Build benchmark steps: the build's recorded timings, per-leg rates, the corpus less one report."""

from __future__ import annotations

from pathlib import Path

from core.settings import Settings
from corpus import CORPUS_DIR, load_catalog
from eval.bench_build import corpus_without, leg_rates, snapshot_timings
from index.build import build_index
from tests.fakes import HashingEmbedder


def test_a_build_records_each_legs_texts_and_encodings_in_its_manifest(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    report = build_index(settings, HashingEmbedder())
    timings = snapshot_timings(settings.data_dir)
    legs = {name: (leg["texts"], leg["encoded"]) for name, leg in timings.items() if isinstance(leg, dict)}
    n_sentences = timings["sentences"]["texts"]
    assert legs == {
        "passages": (report.passages, report.passages),
        "sentences": (n_sentences, legs["sentences"][1]),
        # the fake stands in for both legs, with one cache: the multilingual leg finds every vector there
        "passages (multilingual)": (report.passages, 0),
        "sentences (multilingual)": (n_sentences, 0),
    }


def test_leg_rates_keep_only_the_legs() -> None:
    timings = {"parse_s": 1.0, "passages": {"texts": 10, "encoded": 10, "seconds": 2.0, "texts_per_s": 5.0}}
    assert leg_rates(timings) == {"passages": 5.0}


def test_corpus_without_a_report_keeps_the_others_entries_and_files(tmp_path: Path) -> None:
    corpus_without(CORPUS_DIR, tmp_path, "mem-mexico-2024")
    ids = [d.id for d in load_catalog(tmp_path)]
    assert ids == [d.id for d in load_catalog(CORPUS_DIR) if d.id != "mem-mexico-2024"]
    assert sorted(p.name for p in tmp_path.glob("*.txt")) == sorted(f"{i}.txt" for i in ids)


def _printed(monkeypatch, build: dict) -> list[str]:  # type: ignore[no-untyped-def]
    """The lines ``policyqa bench`` prints for figures with this ``build`` part and nothing measured beside it."""
    import io

    from rich.console import Console

    import eval.bench_cli
    import eval.console

    out = io.StringIO()
    monkeypatch.setattr(eval.console, "out", Console(file=out, width=200))
    figures = {
        "build": build,
        "open_s": 1.0,
        "verify_ms": 5,
        "encodings_per_request": 1.0,
        "meta": {"query_encoder": "onnx-int8"},
        "in_process": {},
        "peak_rss_mb": 500,
        "http": {"skipped": "--no-http"},
    }
    eval.bench_cli.print_bench(figures)
    return [" ".join(line.replace("│", " ").split()) for line in out.getvalue().splitlines()]


def test_bench_table_prints_the_cold_builds_leg_rates_and_the_add_time(monkeypatch) -> None:
    build = {"seconds": 60.0, "cpu_s": 100.0, "peak_rss_mb": 900}
    add = {"document": "mem-mexico-2024", "seconds": 30.0, "build_s": 28.0, "reload_s": 2.0}
    lines = _printed(
        monkeypatch,
        {
            "cold": {**build, "rates": {"passages (multilingual)": 30.5}},
            "add": {**add, "rates": {"sentences": 150.0}},
        },
    )
    assert "build (cold) 60.00 s, 100 CPU s, peak RSS 900 MB" in lines
    assert "cold build, passages (multilingual) 30.5 texts/s" in lines
    assert "add mem-mexico-2024 to a running server 30.00 s (build 28.00 s, reload 2.00 s)" in lines
    assert "add, sentences 150.0 texts/s" in lines


def test_bench_table_says_when_the_legs_ran_beside_each_other(monkeypatch) -> None:
    cold = {"seconds": 60.0, "peak_rss_mb": 900, "rates": {"passages": 40.0}, "timings": {"legs_concurrent": True}}
    lines = _printed(monkeypatch, {"cold": cold})
    assert "cold build, passages 40.0 texts/s, beside the other model" in lines


def test_bench_table_gives_a_two_stage_builds_served_time_and_its_adapted_stages_rates(monkeypatch) -> None:
    cold = {
        "seconds": 250.0,
        "peak_rss_mb": 900,
        "served_s": 70.0,
        "rates": {"passages (multilingual)": 30.5},
        "adapted_rates": {"passages": 45.0, "passages (multilingual)": None},
    }
    add = {"document": "mem-mexico-2024", "seconds": 40.0, "adapted_s": 200.0, "build_s": 190.0, "reload_s": None}
    lines = _printed(monkeypatch, {"cold": cold, "add": {**add, "rates": {}, "adapted_rates": {"sentences": 90.0}}})
    assert "served (bundled MiniLM) 70.00 s, then adapted" in lines
    assert "cold build, adapted, passages 45.0 texts/s" in lines
    assert not [line for line in lines if "adapted, passages (multilingual)" in line]  # not embedded again
    added = "add mem-mexico-2024 to a running server 40.00 s served (bundled MiniLM); adapted served at 200.00 s"
    assert added in lines
    assert "add, adapted, sentences 90.0 texts/s" in lines


def test_a_two_stage_builds_served_time_is_read_back_from_what_the_build_command_prints() -> None:
    from index.stages import served_line, served_seconds

    output = f"building...\n{served_line(61.23)}\nindex built: 5 documents"
    assert (served_seconds(output), served_seconds("index built: 5 documents")) == (61.2, None)
