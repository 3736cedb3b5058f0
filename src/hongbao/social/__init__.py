"""Social: groups and their members, and relationships between users (R-S3, R-S5, R-S6).

Payment score, group bans, relationship weights and intimacy grow here, fed by the outbox.
"""
