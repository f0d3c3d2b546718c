"""One file per schema revision, ``NNNN_slug.py``; ``python -m api.migrate revision -m "what"`` adds one."""
