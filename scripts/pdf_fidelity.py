"""Render the bundled reports to PDF, extract them and print the outline fidelity table (docs/pdf-fidelity.md).

    python -m scripts.pdf_fidelity [OUT_DIR] [--chromium]

``--chromium`` renders with Chromium's print to PDF instead of reportlab: a
second, independent writer (its own header and footer, no hyphenation).

The PDFs stay in OUT_DIR (default: a temporary directory) for inspection,
with each extracted text beside its PDF.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from corpus import load_catalog
from tests.pdf_fixtures import TWO_COLUMN_REPORT, measure, render_report, render_report_chromium


def main(out_dir: Path, chromium: bool = False) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    print("| Report | Layout | Pages | Section ids recovered | Extra ids | Text in order | Extraction (s) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for document in load_catalog():
        pdf = (render_report_chromium if chromium else render_report)(document.id, out_dir)
        f = measure(document.id, pdf)
        pdf.with_suffix(".txt").write_text(f.extracted.text, encoding="utf-8")
        layout = "two columns" if document.id == TWO_COLUMN_REPORT else "one column"
        print(
            f"| {document.id} | {layout} | {f.pages} | {f.recovered}/{f.expected} = {f.ratio:.3f} "
            f"| {f.extra} | {f.in_order:.4f} | {f.seconds:.1f} |"
        )


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--chromium"]
    if args:
        main(Path(args[0]), "--chromium" in sys.argv)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp), "--chromium" in sys.argv)
