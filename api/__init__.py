"""HTTP API stage: FastAPI app (``api.app.create_app``), wire schemas, routes, ``policyqa serve``.

Nothing is imported here so that registering the ``serve`` command stays
cheap; import ``api.app`` for the application.
"""

__all__: list[str] = []
