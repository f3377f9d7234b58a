"""The gateway: the platform's one public HTTP door (docs/gateway.md)."""
