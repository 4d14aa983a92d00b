"""Working on the database file from the command line: backup, restore, export."""
