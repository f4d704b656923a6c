"""Developer and operator tooling: running the servers, model bookkeeping, quality gates."""
