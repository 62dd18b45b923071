"""Independent hold-out set of lab reports from other PDF producers (Chromium, fpdf2, platypus)."""
