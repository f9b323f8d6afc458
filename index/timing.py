"""One timed block of a build: its wall and CPU seconds, for the snapshot's manifest (``timings``).

On a machine shared with other jobs the CPU seconds say what a step costs,
the wall seconds what it took; ``policyqa bench`` and
``scripts/measure_add.py`` print both.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["timed"]


@contextmanager
def timed(timings: dict[str, Any] | None, name: str) -> Iterator[None]:
    """Record the block's wall seconds as ``timings[NAME_s]`` and the process's CPU seconds as ``NAME_cpu_s``.

    CPU seconds of the whole process, all threads. Nothing is recorded when
    ``timings`` is None or the block raises.
    """
    t0, cpu0 = time.monotonic(), time.process_time()
    yield
    if timings is not None:
        timings[f"{name}_s"] = round(time.monotonic() - t0, 3)
        timings[f"{name}_cpu_s"] = round(time.process_time() - cpu0, 3)
