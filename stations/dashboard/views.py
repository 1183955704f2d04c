"""The operator dashboard page and the small JSON of its counters that the page re-fetches when a live
event arrives. Staff with the view permission on stations only; money only for those who may see charge
records."""

import functools

from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from stations.dashboard.charts import dashboard_charts
from stations.dashboard.selectors import Periods, network_counters, operator_zone, status_board
from stations.models import ConnectorStatus

VIEW_PERMISSION = "stations.view_chargepoint"
CHARTS_CACHE_S = 300
MONEY_PERMISSION = "billing.view_chargedetailrecord"


def network_viewer_required(view):
    """Staff sign-in (the admin's login page), then 403 for staff without the view permission on stations."""
    @staff_member_required
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.has_perm(VIEW_PERMISSION):
            raise PermissionDenied
        return view(request, *args, **kwargs)
    return never_cache(wrapper)


@network_viewer_required
def dashboard(request):
    periods = Periods.at()
    with_revenue = request.user.has_perm(MONEY_PERMISSION)
    context = {
        "title": _("Operator dashboard"),
        "counters": network_counters(periods=periods, with_revenue=with_revenue),
        "board": status_board(),
        "with_revenue": with_revenue,
        "time_zone": operator_zone().key,
        "statuses": ConnectorStatus.choices,
    }
    return render(request, "stations/dashboard/index.html", context)


@network_viewer_required
def charts(request):
    """The charts' figures. They describe the last 30 and 7 days, so a few minutes' staleness does not matter:
    they are cached (CHARTS_CACHE_S) and the page loads them after its counters and board."""
    with_revenue = request.user.has_perm(MONEY_PERMISSION)
    key = f"stations.dashboard.charts:{operator_zone().key}:{int(with_revenue)}"
    figures = cache.get(key)
    if figures is None:
        figures = dashboard_charts(with_revenue=with_revenue)
        cache.set(key, figures, CHARTS_CACHE_S)
    return JsonResponse(figures)


@network_viewer_required
def counters(request):
    """The counters; with ?board=1 also the status board (a page that lost its socket catches up with it)."""
    data = network_counters(with_revenue=request.user.has_perm(MONEY_PERMISSION))
    if request.GET.get("board") == "1":
        data["board"] = status_board()
    return JsonResponse(data)
