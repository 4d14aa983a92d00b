"""Metering: meter models, links, reading plans, re-reads and online tracking."""
