"""The accountants' workspace: the Accountants role, invoice search and filters, PDF downloads (one, or a ZIP
of a period) and the journal export (CSV, XLSX) that bookkeeping software imports."""
