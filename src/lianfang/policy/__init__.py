"""Classification policy: masking now; access decisions arrive with the access-control work."""
