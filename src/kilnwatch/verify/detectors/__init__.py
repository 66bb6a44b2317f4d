"""Detectors: patterns in the readings themselves (level shifts, clipping, gaps, stuck values,
corrections, late and repeated deliveries, HJ 212 flags, peers). They are registered, with the
rules, in :mod:`kilnwatch.verify.checks`."""
