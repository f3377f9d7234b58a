"""The platform library every PLPBK service imports: ledger, messaging, views, chassis, CLI."""
import warnings

# nameko 2 runs on eventlet, which now warns on import that it is in maintenance mode.
# The stack is chosen; the warning would only bury real messages in every command.
warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")
