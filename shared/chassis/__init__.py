"""What a nameko service is built on: errors, command handling, dependency providers."""
