"""Scheme dashboard and annual report (issue 6)."""
