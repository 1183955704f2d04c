"""Portal URLs under /portal/: each subdomain module brings its own patterns."""

from django.urls import include, path

from customers.portal import accounts, cards, chargers, charging, home, money

app_name = "portal"

urlpatterns = [
    path("", home.portal_home, name="home"),
    path("", include(accounts.urlpatterns)),
    path("", include(chargers.urlpatterns)),
    path("", include(charging.urlpatterns)),
    path("", include(cards.urlpatterns)),
    path("", include(money.urlpatterns)),
]
