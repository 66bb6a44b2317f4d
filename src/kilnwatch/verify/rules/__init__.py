"""Rules: the enterprise's figures against each other and against third parties (statistics,
grid company, tax invoices, logistics, market prices). They are registered, with the
detectors, in :mod:`kilnwatch.verify.checks`."""
