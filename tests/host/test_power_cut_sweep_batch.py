"""The power-cut sweep (see power_cut.py), part 2: a void and a settlement, in each situation of the journal."""
from __future__ import annotations

import power_cut
import pytest


@pytest.mark.parametrize("situation", ["middle", "boundary", "reclaim"])
def test_every_cut_point_of_a_void_and_a_settlement_recovers_and_agrees_with_the_ledger(tmp_path, record_property,
                                                                                      situation):
    power_cut.run(tmp_path, record_property, situation, ("void", "settlement"))
