"""Alembic migrations of the service's store, shipped inside the package (driven by ``api.migrate``)."""
