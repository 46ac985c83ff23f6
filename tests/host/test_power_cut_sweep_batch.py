"""The power-cut sweep (see power_cut.py), part 2: a void and a settlement, in each situation of the journal."""
from __future__ import annotations

import pytest
from power_cut import prepare, sweep


@pytest.mark.parametrize("situation", ["middle", "boundary", "reclaim"])
def test_every_cut_point_of_a_void_and_a_settlement_recovers_and_agrees_with_the_ledger(tmp_path, record_property,
                                                                                      situation):
    prepared = prepare(tmp_path, situation)
    for operation in ("void", "settlement"):
        firsts, seconds = sweep(prepared, operation, tmp_path)
        # printed at the end of the run (conftest.py), also under pytest-xdist
        record_property("power-cut sweep", f"a {operation}, {situation}: {firsts} cut points, then {seconds} more "
                                           "during the recovery")
