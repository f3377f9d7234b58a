"""deploy/mongo/ledger-roles.js run by Node against a stand-in for mongosh's `db`, which
records the roles and users the script asks for (no MongoDB server or mongosh here):
what each kind of account may do, read off what the script grants."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "mongo" / "ledger-roles.js"
STAND_IN = """
const fs = require("fs");
const granted = {roles: {}, users: {}};
const database = (name) => ({
  getRole: (role) => granted.roles[name + "." + role] || null,
  createRole: (spec) => { granted.roles[name + "." + spec.role] = spec.privileges; },
  updateRole: (role, spec) => { granted.roles[name + "." + role] = spec.privileges; },
  getUser: (user) => granted.users[name + "." + user] || null,
  createUser: (spec) => { granted.users[name + "." + spec.user] = spec.roles; },
  updateUser: (user, spec) => { granted.users[name + "." + user] = spec.roles; },
});
globalThis.db = {getSiblingDB: database};
globalThis.print = () => {};
globalThis.passwordPrompt = () => "prompted";
eval(fs.readFileSync(process.argv[1], "utf8"));
console.log(JSON.stringify(granted));
"""


def grants(**env):
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    done = subprocess.run(["node", "-e", STAND_IN, str(SCRIPT)], capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", **env}, check=True)
    return json.loads(done.stdout)


def actions(granted, role, database="plpbk_ledger"):
    return {action for privilege in granted["roles"][f"plpbk_ledger.{role}"]
            if privilege["resource"]["db"] == database for action in privilege["actions"]}


def test_each_account_gets_what_it_needs_and_nothing_more():
    """A relay (plpbk relay) reads the ledgers and keeps its positions in the views
    database: as a reader it could not write those, as a writer it could append to
    every ledger. It is an account of its own kind now."""
    granted = grants(LEDGER_DB="plpbk_ledger", VIEWS_DB="plpbk_views",
                     LEDGER_WRITERS="registration", LEDGER_READERS="auditor",
                     LEDGER_RELAYS="relay")
    assert actions(granted, "plpbkLedgerWriter") == {
        "find", "insert", "createIndex", "listCollections", "listIndexes"}
    assert actions(granted, "plpbkLedgerReader") == {"find", "listCollections", "listIndexes"}
    users = granted["users"]
    assert users["plpbk_ledger.registration"] == [
        {"role": "plpbkLedgerWriter", "db": "plpbk_ledger"},
        {"role": "readWrite", "db": "plpbk_views"}]
    assert users["plpbk_ledger.auditor"] == [{"role": "plpbkLedgerReader", "db": "plpbk_ledger"}]
    assert users["plpbk_ledger.relay"] == [
        {"role": "plpbkLedgerReader", "db": "plpbk_ledger"},
        {"role": "readWrite", "db": "plpbk_views"}]
