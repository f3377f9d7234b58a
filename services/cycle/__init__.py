"""Cycle tracking: the six-stage PLPBK cycle of every selected village."""
