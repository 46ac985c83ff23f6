"""The power-cut sweep (see power_cut.py), part 1: a sale and a refund, in each situation of the journal.

(Two files so that pytest-xdist runs the two halves on both cores.)
"""
from __future__ import annotations

import power_cut
import pytest


@pytest.mark.parametrize("situation", ["middle", "boundary", "reclaim"])
def test_every_cut_point_of_a_sale_and_a_refund_recovers_and_agrees_with_the_ledger(tmp_path, record_property,
                                                                                   situation):
    power_cut.run(tmp_path, record_property, situation, ("sale", "refund"))
