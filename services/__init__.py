"""One nameko service per package."""
