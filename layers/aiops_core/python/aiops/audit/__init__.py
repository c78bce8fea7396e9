"""Audit capability: decision chains from the ledger."""
