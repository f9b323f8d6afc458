"""Retrieval legs: each scores passages for a query under filters, behind one protocol.

The built-in legs register themselves on import: ``lexical`` (BM25),
``dense`` (MiniLM, English) and ``multilingual`` (multilingual-e5, other
languages). A new leg is one module calling ``register_leg``.
"""

from qa.legs import dense, lexical, multilingual
from qa.legs.base import LEGS, Leg, LegFactory, LegQuery, get_leg, register_leg

__all__ = ["LEGS", "Leg", "LegFactory", "LegQuery", "dense", "get_leg", "lexical", "multilingual", "register_leg"]
