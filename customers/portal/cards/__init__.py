"""Portal pages: RFID cards (list, link, order, name, block)."""

from django.urls import path

from . import views

urlpatterns = [
    path("cards/", views.card_list, name="cards"),
    path("cards/link/", views.card_link, name="card-link"),
    path("cards/order/", views.card_order, name="card-order"),
    path("cards/<int:pk>/", views.card_detail, name="card"),
    path("cards/<int:pk>/label/", views.card_label, name="card-label"),
    path("cards/<int:pk>/block/", views.card_block, name="card-block"),
]
