"""One result schema: what each number means (``quantityDefinition``), the fields of every result
record with their definitions, from which tables, JSON, CSV, HTML and the console are written
(``resultFields``), and the MRML results tables (``resultsTable``)."""
