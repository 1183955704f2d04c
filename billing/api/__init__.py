"""Billing REST API: tariffs (OCPI), price feeds, charge detail records (OCPI), loyalty."""
