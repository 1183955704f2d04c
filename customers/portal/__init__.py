"""The driver portal: the pages drivers and fleet managers use, each scoped to the signed-in customer.

One module per subdomain (accounts, chargers, charging, cards, money); `access` holds the scoping rules that
every view goes through, so that no page can reach another customer's data by changing an id.
"""
