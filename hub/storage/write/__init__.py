"""The write path: the batching writer, ingest with the counter rules, rollups, retention."""
