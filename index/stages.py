"""A build that must train MiniLM serves first, then adapts: two snapshots, the second replacing the first.

Adapting MiniLM to the reports (``index.adapt``) takes minutes; embedding
with the bundled MiniLM and multilingual-e5 takes about one. So when the
adapted model a build wants is not trained yet, the build is made in two
stages: first with the bundled MiniLM (``bundled_stage``), switched live as
any build, so a fresh clone's page answers and an added report is served
within the minute; then the model is trained (outside the build lock: adds
and other builds go on meanwhile) and the index is built again with it,
which re-embeds only the English leg (multilingual-e5's vectors come from
the embedding cache) and replaces the first snapshot.

``policyqa build`` runs both stages in turn; ``policyqa serve`` and a report
added over HTTP serve the first and leave the second to the server's
background adaptation (``api.adapting``), which asks ``awaits_adaptation``.
"""

from __future__ import annotations

import re

from core.settings import Settings
from index.adapt import is_trained
from index.fingerprint import is_up_to_date

__all__ = ["awaits_adaptation", "bundled_stage", "first_stage", "served_line", "served_seconds"]

_SERVED = "served with the bundled MiniLM after {:.1f}s, then with MiniLM adapted to the reports (index/stages.py)"
_SERVED_SECONDS = re.compile(re.escape(_SERVED).replace(re.escape("{:.1f}"), "([0-9]+[.][0-9])"))


def served_line(seconds: float) -> str:
    """What ``policyqa build`` prints of a build made in two stages: when the first went live."""
    return _SERVED.format(seconds)


def served_seconds(output: str) -> float | None:
    """The seconds ``served_line`` gave in a command's output, if it printed one (``policyqa bench`` reads it)."""
    match = _SERVED_SECONDS.search(output)
    return float(match.group(1)) if match else None


def bundled_stage(settings: Settings) -> Settings | None:
    """The settings of this build made with the bundled MiniLM, if the build adapts it; else None."""
    return settings.model_copy(update={"adapt": False}) if settings.adapt else None


def first_stage(settings: Settings) -> Settings | None:
    """What to build before training, when the adapted model must still be trained; None to build at once."""
    bundled = bundled_stage(settings)
    return None if bundled is None or is_trained(settings) else bundled


def awaits_adaptation(settings: Settings) -> bool:
    """Whether the live index is the first stage of this build: the corpus indexed, MiniLM not yet adapted.

    Milliseconds (no model is loaded): the server asks it each time ``data/current`` changes.
    """
    bundled = bundled_stage(settings)
    return bundled is not None and not is_up_to_date(settings) and is_up_to_date(bundled)
