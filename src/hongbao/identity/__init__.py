"""Identity: users, enterprises, exemptions, groups and relationships, devices and funding."""
