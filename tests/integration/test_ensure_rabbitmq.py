"""tools/ensure-rabbitmq, as `make test` and `make run` call it, against the real RabbitMQ.

The management API is made unreachable (a closed port) and the tools that could enable
it are left off PATH, as for an operator who is not root: the tests still need the API,
`make run` (AMQP alone) does not."""
import os
import shutil
import socket
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, "tools", "ensure-rabbitmq")


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]   # free once closed: nothing listens there


def ensure(tmp_path, *args):
    # only what the script runs: no rabbitmq-server, no rabbitmq-plugins
    for tool in ("env", "bash", "curl", "seq", "sleep", "id"):
        os.symlink(shutil.which(tool), tmp_path / tool)
    env = {"PATH": str(tmp_path), "AMQP_HOST": "127.0.0.1",
           "RABBIT_CTL_URI": f"http://guest:guest@127.0.0.1:{closed_port()}"}
    return subprocess.run([SCRIPT, *args], env=env, capture_output=True, text=True,
                          timeout=60)


def test_make_run_needs_amqp_alone(tmp_path):
    done = ensure(tmp_path, "--without-management")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_the_tests_need_the_management_api(tmp_path):
    done = ensure(tmp_path)
    assert done.returncode == 1
    assert "management API" in done.stderr and "rabbitmq_management" in done.stderr


def test_an_unknown_option_is_bad_usage(tmp_path):
    done = ensure(tmp_path, "--without-managment")
    assert done.returncode == 2
    assert "usage:" in done.stderr
