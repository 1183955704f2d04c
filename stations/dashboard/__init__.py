"""The operator dashboard: network counters, status board and charts (selectors.py, views.py), and the
station view's panels and guided command forms (station.py, command_forms.py)."""
