"""The HTTP service: the Python API over HTTP, problem+json errors, OpenAPI."""
