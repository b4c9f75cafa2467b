"""Storage: schema derived from the standard, engines, migrations and record writers."""
