"""Planning documents and the community meetings that decide them (issue 5)."""
