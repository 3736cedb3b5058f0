"""Storage adapters (SQLite, PostgreSQL) behind the ports in ``hongbao.platform.unit_of_work``."""
