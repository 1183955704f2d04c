"""Billing admin: each module registers its models (tariffs, cdrs, loyalty)."""
