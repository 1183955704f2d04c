from django.urls import path

from billing.accounting import views

app_name = "accounting"

urlpatterns = [
    path("", views.invoice_list_view, name="invoice-list"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf_view, name="invoice-pdf"),
    path("invoices.zip", views.invoice_zip_view, name="invoice-zip"),
    path("journal.csv", views.journal_view, {"fmt": "csv"}, name="journal-csv"),
    path("journal.xlsx", views.journal_view, {"fmt": "xlsx"}, name="journal-xlsx"),
]
