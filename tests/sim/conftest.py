from sim_runs import clean, faulty

__all__ = ["clean", "faulty"]
