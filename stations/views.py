"""Staff pages of the stations app beside the admin: the live network board."""

from django.shortcuts import render

from stations.dashboard.views import network_viewer_required
from stations.models import Connector


@network_viewer_required
def live_board(request):
    connectors = (Connector.objects.select_related("evse__charge_point__location")
                  .order_by("evse__charge_point__identity", "evse__ocpp_evse_id", "ocpp_connector_id"))
    return render(request, "stations/live.html", {"connectors": connectors, "title": "Live network board"})
