"""``python -m kilnwatch.collect modbus --config FILE``: the collector without the platform CLI."""

from kilnwatch.collect.cli import app

app()
