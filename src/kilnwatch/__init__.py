"""kilnwatch: supervision of energy-intensive, high-emission industries."""

__version__ = "0.1.0"

__all__ = ["__version__"]
