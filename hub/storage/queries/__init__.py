"""The SQL behind the storage API: each module reads (and writes) one family of tables."""
