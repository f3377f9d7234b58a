"""`plpbk run` starts its services from any working directory: a deployment that keeps
its data elsewhere (absolute STORE_URI, STATE_URI, ATTACHMENT_URI) runs it from there.
It named `config.yml` relative to the working directory, so every service stopped at
once with nameko's traceback (FileNotFoundError: 'config.yml')."""
import os

from services.run import service_command


def test_each_service_is_started_with_the_checkouts_config_from_any_folder(tmp_path,
                                                                           monkeypatch):
    monkeypatch.chdir(tmp_path)
    command = service_command("/venv/bin", "services.registration.service")
    config = command[command.index("--config") + 1]
    assert os.path.isabs(config) and os.path.isfile(config)
    with open(config) as handle:
        assert "AMQP_URI" in handle.read()     # nameko's settings, read from the environment
    assert command[0] == "/venv/bin/nameko" and command[-1] == "services.registration.service"
