"""The ``policyqa`` command line: one face over the engine, the HTTP server and the evaluation."""
