"""Billing: tariffs, consumption to money, bills, cost sharing, loss analysis, reports."""
