"""Demo data set (clearly marked as demo) and its loader: ``gxm seed demo``."""
