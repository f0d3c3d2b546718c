"""Keeping the garbage collector off the loaded catalog, indexes and model.

A loaded Matcher over IREP is ~560,000 long-lived Python objects (vocabularies, caches,
label tables). Every full collection walks all of them: ~270 ms on the 2-core machine, with
the GIL held, so under load a service stalled every few seconds and one request in twenty
waited ~350 ms more (docs/api.md "Serving under load"). ``gc.freeze()`` moves what is alive
now into a permanent generation that collections skip; objects made later are collected as
usual. Callers (the service, the CLI) call it once after loading: the library never does.
"""

from __future__ import annotations

import gc


def freeze_long_lived() -> int:
    """Collect once, then exempt every surviving object from later collections; returns how many."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
