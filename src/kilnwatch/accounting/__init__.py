"""Energy, efficiency and carbon accounting (能耗与碳排放核算): the service behind the reports,
the API and the CLI.

Quantities come from the per-meter monthly rollups (never a scan of raw readings); every number
is computed by the pure functions of :mod:`kilnwatch.domain` and keeps the inputs that produced
it (meter codes, totals, coefficients, level tables), so a reviewer can redo the arithmetic.

* :mod:`~kilnwatch.accounting.inputs`: a meter's total as an input, in kgce and tCO2;
* :mod:`~kilnwatch.accounting.units`: the account of each production unit (energy, unit
  product energy consumption, efficiency class, CO2);
* :mod:`~kilnwatch.accounting.groups`: unit accounts aggregated by enterprise, city, industry
  or province, with the capacity share at benchmark;
* :mod:`~kilnwatch.accounting.intensity`: energy and carbon intensity per revenue against a
  base period.
"""
