"""The operator CLI: `aiops policy check`, `aiops local …`, `aiops audit`."""
