"""Test-session setup shared by every test folder.

nameko 2.14's pytest plugin no longer monkey-patches eventlet; nameko containers need
it, and it must happen before anything imports socket or threading.
"""
import warnings

warnings.filterwarnings("ignore", message="(?s).*Eventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()
