"""Every write to the stations app, one module per subdomain (network.py: locations, charge points, EVSEs)."""
