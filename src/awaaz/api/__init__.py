"""The HTTP API: FastAPI app factory, dependencies, routes and the single error mapping."""
