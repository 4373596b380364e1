"""Who may do what: access keys and signatures, policies, the audit trail, keys for data at rest."""
