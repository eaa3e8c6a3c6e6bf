"""The suites of the contract run; each exposes ``run(ctx)`` and records into the context."""
