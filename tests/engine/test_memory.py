"""``freeze_long_lived``: what is loaded before it is out of the collector's full passes."""

from __future__ import annotations

import gc


def test_objects_alive_at_freeze_are_skipped_by_collections_new_ones_are_not() -> None:
    from matching.memory import freeze_long_lived

    loaded = [{"naf": f"{i:02d}.00Z"} for i in range(1000)]  # stands for a loaded catalog
    try:
        frozen = freeze_long_lived()
        # The freeze count is process-wide: another thread of the test process may freeze or unfreeze
        # in between (seen in full runs, both ways), so it is not compared again; what matters is below.
        assert frozen >= len(loaded)
        later = [[i] for i in range(10)]
        tracked = {id(o) for o in gc.get_objects()}
        assert id(loaded) not in tracked and id(loaded[0]) not in tracked  # a full pass no longer walks them
        assert id(later) in tracked  # objects made afterwards are collected as usual
    finally:
        gc.unfreeze()
    assert id(loaded) in {id(o) for o in gc.get_objects()}
