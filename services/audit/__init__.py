"""Audit: replay any decision history, the state as of any moment, and proofs (read-only)."""
