"""The efficiency programme (能效提升): level determination (核查认定), one plan per enterprise
(一企一策), measured savings of retrofits (M&V), leaders (领跑者) and elimination (淘汰).

* :mod:`~kilnwatch.programme.savings`: measured savings of a unit's retrofit from the daily
  rollups, through the pure :mod:`kilnwatch.domain.mv`.
"""
