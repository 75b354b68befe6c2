"""The catalog's domain model: entities, problems, kinds and relations. No I/O here."""
