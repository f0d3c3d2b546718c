"""relocmatch's HTTP service (FastAPI). Build it with ``api.main.create_app``."""
