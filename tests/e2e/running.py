"""The whole platform as `make run` starts it (`plpbk run`), isolated for a test or a
benchmark: a private RabbitMQ virtual host (management API), ledgers and state in a
temporary folder, the repository's config.yml. Users and keys are made with the real
`plpbk users` / `plpbk keys` commands.

    with RunningPlatform() as platform:
        key = platform.issue_key("bench", role="ministry")
        platform.create_user("siti", "district", "52.01")
        token = platform.login("siti")
"""
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

from services import SERVICES
from shared.config import QUIET_EVENTLET

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
MANAGEMENT = os.environ.get("RABBITMQ_MANAGEMENT", "http://127.0.0.1:15672/api")
PASSWORD = "walking skeleton passphrase"
GATEWAY = f"http://127.0.0.1:{SERVICES['gateway'][1]}"


def management(method, path, body=None):
    request = urllib.request.Request(f"{MANAGEMENT}{path}", method=method,
                                     data=json.dumps(body).encode() if body else None)
    request.add_header("Authorization", "Basic Z3Vlc3Q6Z3Vlc3Q=")   # guest:guest
    request.add_header("content-type", "application/json")
    urllib.request.urlopen(request, timeout=30).read()


def port_is_free(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


class RunningPlatform:
    def __init__(self, extra_env=None, log_level="WARNING", data=None,
                 forget_kept_answers=False):
        """data: a folder of ledgers, state, attachments and tree-head.pem (a golden
        fixture) to start on, copied; without it the platform starts empty.
        forget_kept_answers: the gateway's kept Idempotency-Key answers dropped from the
        copy, as a day later (only the ledgers remember the keys)."""
        self.extra_env, self.log_level, self.data = extra_env or {}, log_level, data
        self.forget_kept_answers = forget_kept_answers
        self.process = None

    def __enter__(self):
        self.start()
        try:
            self.wait_until_up()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def start(self, *options):
        """`plpbk run` with these options, in the background (__exit__ stops it)."""
        busy = [name for name, (_t, port) in SERVICES.items() if not port_is_free(port)]
        if busy:
            raise RuntimeError(f"ports of {', '.join(busy)} are in use: is `make run` "
                               "running? Stop it first.")
        self.vhost = f"plpbk-e2e-{uuid.uuid4().hex[:8]}"
        management("PUT", f"/vhosts/{self.vhost}")
        management("PUT", f"/permissions/{self.vhost}/guest",
                   {"configure": ".*", "write": ".*", "read": ".*"})
        self.folder = tempfile.mkdtemp(prefix="plpbk-e2e-")
        # the key plpbk run would make under the repository's var/ (kept out of it here)
        self.tree_head_key = os.path.join(self.folder, "tree-head.pem")
        if self.data:
            shutil.copytree(self.data, self.folder, dirs_exist_ok=True)
            os.chmod(self.tree_head_key, 0o600)   # a checkout leaves it 644
            if self.forget_kept_answers:
                forget_kept_answers(os.path.join(self.folder, "state", "gateway.db"))
        else:
            subprocess.run([os.path.join(BIN, "plpbk"), "keygen", "--out",
                            self.tree_head_key], check=True, capture_output=True, timeout=60)
        self.env = dict(
            os.environ, AMQP_URI=f"amqp://guest:guest@127.0.0.1:5672/{self.vhost}",
            STORE_URI=f"sqlite:///{self.folder}/ledgers",
            STATE_URI=f"sqlite:///{self.folder}/state", VIEW_URI="memory://",
            ATTACHMENT_URI=f"file:///{self.folder}/attachments",
            GATEWAY_SECRET=uuid.uuid4().hex * 2, LOG_LEVEL=self.log_level,
            TREE_HEAD_KEY=self.tree_head_key,
            PLPBK_NO_PROGRESS="1", PLPBK_ACTOR="operator:e2e", PYTHONPATH=REPO,
            PYTHONWARNINGS=QUIET_EVENTLET, **self.extra_env)
        if self.data:       # the gateway's secret is the one its state store kept
            del self.env["GATEWAY_SECRET"]
        self.log = open(os.path.join(self.folder, "platform.log"), "w")
        # as `make run`: plpbk run from the repository (it reads config.yml there)
        self.process = subprocess.Popen([os.path.join(BIN, "plpbk"), "run", *options],
                                        cwd=REPO, env=self.env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def __exit__(self, *exc):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                # each child runs in a session of its own: plpbk run's group is not theirs
                for pid in [self.process.pid, *self.children().values()]:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()
        try:
            management("DELETE", f"/vhosts/{self.vhost}")
        finally:
            if not os.environ.get("PLPBK_KEEP_E2E"):
                shutil.rmtree(self.folder, ignore_errors=True)
        return False

    def interrupt(self, timeout=60):
        """Ctrl-C as a terminal sends it, to the whole process group; plpbk run's exit
        code (not 0 when a process had to be killed)."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=timeout)

    def children(self):
        """process name -> pid, from the lines plpbk run prints as it starts them."""
        started = re.findall(r"^(\w+) +http://\S+ +\(pid (\d+)\)$", self.logs(tail=None),
                             re.M)
        return {name: int(pid) for name, pid in started}

    def logs(self, tail=200):
        with open(os.path.join(self.folder, "platform.log")) as handle:
            lines = handle.readlines()
        return "".join(lines[-tail:] if tail else lines)

    def wait_until_up(self, timeout=90):
        """The gateway is healthy and every backend answers an RPC through it."""
        deadline = time.monotonic() + timeout
        key = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"plpbk run stopped:\n{self.logs()}")
            try:
                if key is None:
                    key = self.issue_key("readiness probe", role="auditor")
                status, _ = http("GET", "/api/v1/villages", headers={"X-API-Key": key})
                audit, _ = http("GET", "/api/v1/audit/ledgers", headers={"X-API-Key": key})
                if status == 200 and audit == 200:
                    return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the platform did not come up in {timeout} s:\n{self.logs()}")

    # -- the operator's commands ------------------------------------------------------------
    def plpbk(self, *args, stdin=None):
        done = subprocess.run([os.path.join(BIN, "plpbk"), *args], cwd=self.folder,
                              env=self.env, input=stdin, capture_output=True, text=True,
                              timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"plpbk {' '.join(args)} failed: {done.stdout}{done.stderr}")
        return done.stdout

    def create_user(self, username, role, region="", password=PASSWORD):
        self.plpbk("users", "create", username, "--name", username.title(), "--role", role,
                   "--region", region, "--password-stdin", stdin=password + "\n")
        return username

    def issue_key(self, name, role="integration", region=""):
        output = self.plpbk("keys", "issue", "--name", name, "--role", role,
                            "--region", region)
        return output.strip().splitlines()[-1]

    def login(self, username, password=PASSWORD):
        status, body = http("POST", "/api/v1/auth/login",
                            {"username": username, "password": password})
        if status != 200:
            raise RuntimeError(f"login of {username}: {status} {body}")
        return body["access_token"]


def forget_kept_answers(state_file):
    with contextlib.closing(sqlite3.connect(state_file)) as db, db:
        db.execute("DELETE FROM c_idempotency")
        db.execute("DELETE FROM c_idempotency_expiry")


def http(method, path, body=None, headers=None, timeout=60):
    """(status, JSON body) of one request to the gateway."""
    status, raw = http_bytes(method, path, body, headers, timeout)
    return status, _json(raw)


def http_bytes(method, path, body=None, headers=None, timeout=60):
    """(status, the answer's bytes as they came) of one request to the gateway."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(GATEWAY + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _json(raw):
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")
