"""Staff pages of the stations app beside the admin: the live network board."""

from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render

from stations.models import Connector


@staff_member_required
def live_board(request):
    connectors = (Connector.objects.select_related("evse__charge_point__location")
                  .order_by("evse__charge_point__identity", "evse__ocpp_evse_id", "ocpp_connector_id"))
    return render(request, "stations/live.html", {"connectors": connectors, "title": "Live network board"})
