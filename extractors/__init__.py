"""Extraction stage: PDF pages -> words with boxes (text layer or OCR) -> lines, tables,
report metadata and raw result rows with provenance."""
