"""Prepaid accounts: ledger, balances, thresholds, trip policy and confirmed commands."""
