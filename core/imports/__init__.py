"""CSV/XLSX import of any entity whose ``EntitySpec.importable`` is true.

Flow: upload (``service.start``: stored under a generated name, checked whole by ``readers.scan``) ->
column mapping (``fields.suggest``; saved mappings per user) -> preview (``service.preview``) -> the run as a
background job (``jobs.run_import`` -> ``service.run`` -> ``engine.Importer``: batches written with
executemany, then the search index of the new records) -> result with an error report only the importer can
download -> "undo this import".

Modules: ``readers`` (files, encodings, limits, ZIP checks), ``fields`` (importable fields, mapping,
cell conversion), ``engine`` (the batch path), ``service``, ``jobs``, ``models``.
"""
