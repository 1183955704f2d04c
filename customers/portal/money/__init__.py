"""Portal pages about money: the session history, the payments overview, invoices, payment methods, the prepaid
balance and loyalty. Each module brings its own URL patterns; all of them read through customers/portal/access.
"""

from . import balance, history, invoices, loyalty, methods, overview

urlpatterns = [
    *history.urlpatterns,
    *overview.urlpatterns,
    *invoices.urlpatterns,
    *methods.urlpatterns,
    *balance.urlpatterns,
    *loyalty.urlpatterns,
]
