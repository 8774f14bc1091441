"""Policies: one folder each, all behind the same interface (see policies/base.py)."""
