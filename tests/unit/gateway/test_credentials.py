"""Secrets: API keys (shown once, kept as SHA-256) and argon2 password hashes."""
from services.gateway import credentials


def test_api_keys_are_random_parseable_and_kept_only_as_a_digest():
    key_id, plaintext, digest = credentials.new_api_key()
    other = credentials.new_api_key()
    assert plaintext.startswith(f"plpbk_{key_id}_") and len(plaintext) > 50
    assert other[0] != key_id and other[1] != plaintext
    assert credentials.key_id_of(plaintext) == key_id
    assert digest == credentials.key_digest(plaintext) and plaintext not in digest
    assert credentials.key_matches(plaintext, digest)
    assert not credentials.key_matches(plaintext + "x", digest)


def test_malformed_keys_have_no_id():
    for text in ("", "plpbk", "plpbk_short_x", "other_a1b2c3d4e5f6_secret",
                 "plpbk_a1b2c3d4e5f6_"):
        assert credentials.key_id_of(text) is None


def test_passwords_are_salted_argon2_hashes():
    first = credentials.hash_password("correct horse battery")
    second = credentials.hash_password("correct horse battery")
    assert first.startswith("$argon2id$") and first != second
    assert credentials.password_matches(first, "correct horse battery")
    assert not credentials.password_matches(first, "wrong horse battery")
    assert not credentials.password_matches(None, "anything")       # unknown user
    assert not credentials.password_matches("not a hash", "anything")
