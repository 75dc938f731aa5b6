"""Sessions as the tenant manages them: registration, state records, views, QR images, erasure."""
