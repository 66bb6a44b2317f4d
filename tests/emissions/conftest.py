from _emissions_factory import stack_day, water_day

__all__ = ["stack_day", "water_day"]
