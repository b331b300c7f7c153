"""XLSX export and export jobs.

``xlsx.write_xlsx`` writes a list (its filters, sort and columns) with openpyxl's write-only workbook: text
cells are always strings, defused like the CSV export (SECURITY.md 24), hidden fields never appear.
Exports above ``EXPORT_JOB_THRESHOLD`` rows run as a job (``jobs.run_export``) writing to
``INSTANCE_PATH/exports/<generated name>``; only the requester can download the file, and the scheduled job
``core.exports.cleanup`` removes files older than ``EXPORT_KEEP_DAYS``.
"""
