"""The database file and its connections: pragmas, the thread bridge, the lock, opening."""
