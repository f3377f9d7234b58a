"""The `plpbk` operator command line."""
