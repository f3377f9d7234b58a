"""The platform library every PLPBK service imports: ledger, messaging, views, chassis, CLI."""
