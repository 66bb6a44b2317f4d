from _emissions_factory import stack_day

__all__ = ["stack_day"]
