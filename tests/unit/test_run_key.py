"""`plpbk run` signs tree heads out of the box: without TREE_HEAD_KEY it makes the
embedded default's key once, under var/keys, and keeps it from one run to the next."""
import os
import stat

import click

from services.run import DEFAULT_TREE_HEAD_KEY, run, tree_head_key
from shared.ledger.verify import public_key_pem


def key_for(environ):
    with click.Context(run) as ctx:
        return tree_head_key(ctx, environ)


def test_without_a_key_the_first_run_makes_one_and_later_runs_keep_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert key_for({}) == DEFAULT_TREE_HEAD_KEY == os.path.join("var", "keys", "tree-head.pem")
    private = (tmp_path / DEFAULT_TREE_HEAD_KEY).read_bytes()
    assert stat.S_IMODE(os.stat(DEFAULT_TREE_HEAD_KEY).st_mode) == 0o600   # as keygen
    public = (tmp_path / (DEFAULT_TREE_HEAD_KEY + ".pub")).read_bytes()
    assert public == public_key_pem(private)      # the auditors' half matches

    assert key_for({"TREE_HEAD_KEY": ""}) == DEFAULT_TREE_HEAD_KEY   # empty = not set
    assert (tmp_path / DEFAULT_TREE_HEAD_KEY).read_bytes() == private   # never replaced


def test_a_configured_key_is_used_and_nothing_is_made(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert key_for({"TREE_HEAD_KEY": "/etc/plpbk/tree-head.pem"}) == \
        "/etc/plpbk/tree-head.pem"
    assert not (tmp_path / "var").exists()
