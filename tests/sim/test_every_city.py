"""``every_city``: the first enterprises go one to each city (the demo's users each see their
own city); without it the province is drawn exactly as before."""

from __future__ import annotations

import numpy as np

from kilnwatch.sim.config import SimParams
from kilnwatch.sim.province import build_enterprises


def _cities(params: SimParams) -> list[str]:
    enterprises, _ = build_enterprises(params, np.random.default_rng(params.seed))
    return [e.region_code[:4] for e in enterprises]


def test_every_city_places_one_enterprise_in_each_city() -> None:
    cities = _cities(SimParams(seed=7, enterprises=20, every_city=True))
    assert len(set(cities[:16])) == 16 and all(c.startswith("37") for c in cities)


def test_the_default_draw_is_unchanged_after_the_first_sixteen() -> None:
    plain = _cities(SimParams(seed=7, enterprises=30))
    spread = _cities(SimParams(seed=7, enterprises=30, every_city=True))
    assert plain[16:] == spread[16:]  # the random stream is the same; only placement differs
