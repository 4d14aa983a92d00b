"""Schema versions and the migrations that bring a database up to the latest one."""
