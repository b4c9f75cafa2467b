"""HTTP API (FastAPI): thin routes over services."""
