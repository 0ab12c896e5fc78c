"""Review service: workflows, review cases, stage decisions, staff accounts."""
