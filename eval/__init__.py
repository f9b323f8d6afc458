"""Evaluation stage: the gold set, retrieval metrics, reports and the speed benchmark.

Nothing is imported here, so registering ``policyqa eval`` and ``policyqa bench``
(``eval.cli``) stays light; import the modules (``eval.run``, ``eval.metrics``...) directly.
"""
