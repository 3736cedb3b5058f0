"""Storage adapters (SQLite, PostgreSQL) implementing the ports each context declares."""
