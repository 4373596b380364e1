"""Services: one per resource family; each owns its state machine and validation."""
