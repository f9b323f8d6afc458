"""English words for a Spanish question: Apertium's rule-based Spanish -> English translation.

Why. The reports are English. A Spanish question is ranked by
multilingual-e5 and its answer chosen on e5 cosines; its own words match
the English text only by accident, so the BM25 leg and the answer's lexical
match, the strongest signals beside the cosine in English, had nothing to
read. Apertium (Debian's ``apertium`` and ``apertium-en-es``) translates
offline, rule by rule, in about 1 ms a question. Its English is rough
("Certify Mexico to the personnel that works in services of
rehabilitation?"), but its content words, codes and names are the
reports'. Both read it: the BM25 leg beside e5
(``qa.legs.lexical.TRANSLATED_WEIGHT``: Spanish dev hit@5 0.855 ->
0.946, cited section at 1 0.691 -> 0.800) and the answer's lexical match
(``qa.answer``: answers holding the gold evidence 0.455 -> 0.582 with
retrieval unchanged). Ranking by the translation alone lost to e5 (hit@3
0.764 -> 0.709), so e5 stays the main leg. English questions are never
translated.

How. The language pair's mode file (``/usr/share/apertium/modes/spa-eng.mode``)
lists its stages. Each is started once with ``-z`` (flush at every NUL
byte) under ``stdbuf -o0`` (``lt-proc -b`` holds its output otherwise), so
one pipeline of processes serves every question of the process's life. A
pipeline that fails or stalls (``TIMEOUT_S``) is stopped and started again
for the next question; that question is answered without translation, never
failed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from core.errors import SettingsError

if TYPE_CHECKING:
    from core.settings import Settings

__all__ = ["MODES_DIR", "PAIRS", "ApertiumTranslator", "Translator", "translator_for"]

_log = logging.getLogger("policyqa.translate")

MODES_DIR = Path("/usr/share/apertium/modes")
"""Where Debian's Apertium language pairs install their mode files."""

PAIRS: dict[str, str] = {"es": "spa-eng"}
"""Apertium's pair for each question language it translates to English."""

TIMEOUT_S = 2.0
"""Longest wait for one translation (about 1 ms normally; the first, while the pipeline starts, about 70 ms)."""

CACHE_SIZE = 1024
"""Translations kept per process: chat frontends repeat questions."""

INSTALL_HINT = "apt-get install apertium apertium-en-es (as root), or set POLICYQA_TRANSLATOR=none"

# Characters Apertium's stream format reserves (and line breaks, which would end
# a question early). Questions need none of them to be matched word by word.
_RESERVED = re.compile(r"[\^$@*/<>{}\[\]\\#+~|\x00-\x1f]")


class Translator(Protocol):
    """Turns a question into English words for the answer's lexical match."""

    name: str

    def translate(self, text: str, language: str) -> str | None:
        """English for ``text`` in ``language``; None if this translator cannot (the answer goes without)."""
        ...


class ApertiumTranslator:
    """Apertium pipelines, one per language pair, started on first use and kept. Thread-safe."""

    name = "apertium"

    def __init__(self, modes_dir: Path = MODES_DIR) -> None:
        self._modes_dir = modes_dir
        self._pipes: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, str], str] = OrderedDict()

    @staticmethod
    def missing(modes_dir: Path = MODES_DIR) -> str | None:
        """What is missing for Apertium to run here, or None when it can."""
        if shutil.which("stdbuf") is None:
            return "stdbuf (coreutils) is not on PATH"
        for pair in PAIRS.values():
            if not (modes_dir / f"{pair}.mode").is_file():
                return f"Apertium's {pair} pair is not installed ({modes_dir / f'{pair}.mode'} is missing)"
        return None

    def translate(self, text: str, language: str) -> str | None:
        pair = PAIRS.get(language)
        words = " ".join(_RESERVED.sub(" ", text).split())
        if pair is None or not words:
            return None
        key = (pair, words)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            try:
                english = self._ask(pair, words)
            except (OSError, TimeoutError, UnicodeDecodeError) as exc:
                _log.warning("translation failed (%s); answering without it, restarting %s", exc, pair)
                self._stop(pair)
                return None
            self._cache[key] = english
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
            return english

    def close(self) -> None:
        """Stop every pipeline (they also end by themselves when this process exits: their input closes)."""
        with self._lock:
            for pair in list(self._pipes):
                self._stop(pair)

    def _ask(self, pair: str, words: str) -> str:
        pipe = self._pipes.get(pair) or self._start(pair)
        assert pipe.stdin is not None and pipe.stdout is not None
        pipe.stdin.write(words.encode("utf-8") + b"\0")
        pipe.stdin.flush()
        out = b""
        fd = pipe.stdout.fileno()
        while not out.endswith(b"\0"):
            ready, _, _ = select.select([fd], [], [], TIMEOUT_S)
            if not ready:
                raise TimeoutError(f"no translation within {TIMEOUT_S:g} s")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise OSError(f"the {pair} pipeline exited")
            out += chunk
        return " ".join(out[:-1].decode("utf-8").split())

    def _start(self, pair: str) -> subprocess.Popen[bytes]:
        pipe = subprocess.Popen(
            ["/bin/sh", "-c", self.command(pair)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, stopped as one
        )
        self._pipes[pair] = pipe
        return pipe

    def _stop(self, pair: str) -> None:
        pipe = self._pipes.pop(pair, None)
        if pipe is None:
            return
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(pipe.pid, signal.SIGTERM)
        try:
            pipe.wait(timeout=2)
        except subprocess.TimeoutExpired:  # pragma: no cover - a stage ignoring SIGTERM
            os.killpg(pipe.pid, signal.SIGKILL)

    def command(self, pair: str) -> str:
        """The pair's mode pipeline with every stage flushing at NUL (``-z``) and unbuffered.

        ``$1`` in a mode file is the generator's flag: ``-n`` leaves unknown
        words unmarked ("CONADIC", not "*CONADIC"), as ``apertium -u`` does;
        ``$2`` is the tagger's optional flag, none here.
        """
        mode = (self._modes_dir / f"{pair}.mode").read_text(encoding="utf-8")
        stages = []
        for stage in mode.strip().split("|"):
            argv = [{"$1": "-n"}.get(a, a) for a in shlex.split(stage) if a != "$2"]
            stages.append(shlex.join(["stdbuf", "-o0", argv[0], "-z", *argv[1:]]))
        return " | ".join(stages)


def translator_for(settings: Settings) -> Translator | None:
    """The translator ``settings.translator`` names: ``auto`` takes Apertium when installed.

    ``apertium`` when it is not installed is a configuration error, raised at
    startup (``SettingsError``) rather than found by the first Spanish question.
    """
    if settings.translator == "none":
        return None
    missing = ApertiumTranslator.missing(MODES_DIR)
    if missing is None:
        return ApertiumTranslator(MODES_DIR)
    if settings.translator == "apertium":
        raise SettingsError(f"POLICYQA_TRANSLATOR=apertium, but {missing}; {INSTALL_HINT}")
    _log.info("no translator (%s): Spanish answers use multilingual-e5 alone; %s", missing, INSTALL_HINT)
    return None
