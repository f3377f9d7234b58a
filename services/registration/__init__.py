"""Registration and eligibility: which villages the programme takes, and why."""
