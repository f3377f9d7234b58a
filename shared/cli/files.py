"""Files a command is given: keys and kept evidence it reads, evidence it writes.

Every problem is bad usage (exit 2) naming the option, found before any work is done
where it can be: an export must not run for minutes and then fail to write its bundle.
No command writes over an existing file.
"""
import json
import os
import stat

from .common import EXIT_UNREACHABLE, fail

MAX_KEPT_FILE = 1 << 20   # keys, checkpoints and tree heads are under 1 KiB; /dev/zero never ends


def new_file(path, option, what):
    """Check that PATH can become a new file: named, not there yet, in a folder that is
    there and writable. Returns PATH (None stays None: the option was not given)."""
    if path is None:
        return None
    if path == "":
        fail(f"{option}: give a file name ('' names no file)")
    if os.path.lexists(path):
        fail(f"{option} {path}: it exists; refusing to overwrite {what} (choose another file)")
    in_writable_folder(path, option)
    return path


def in_writable_folder(path, option):
    """Check that the folder PATH is to be created in is there and writable."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        fail(f"{option} {path}: there is no folder {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        fail(f"{option} {path}: the folder {folder} is not writable")


def not_a_device(path, option=None):
    """Refuse a device given for a file (/dev/zero, /dev/urandom, a disk): read to its end
    it never ends, and the command hung or ran out of memory. Pipes (`<(...)`) end: kept."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return   # not there or not readable: the reading names it
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        named = f"{option} {path}" if option else path
        fail(f"{named}: a device, not a file (give the file itself)")


def write_new(path, data, option, what, mode=0o644):
    """Create PATH with DATA, never over an existing file; a failed write leaves nothing."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        fail(f"{option} {path}: it exists; refusing to overwrite {what} (choose another file)")
    except OSError as exc:
        fail(f"{option} {path}: cannot create {what}: {exc.strerror or exc}")
    try:
        with open(descriptor, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
    except OSError as exc:   # a full disk: no half a key, checkpoint or bundle stays behind
        os.unlink(path)      # and the machine's state, not the command's: exit 3
        fail(f"{option} {path}: cannot write {what}: {exc.strerror or exc}",
             EXIT_UNREACHABLE)
    except BaseException:    # Ctrl-C while a big bundle is written: no half of it either
        os.unlink(path)
        raise


def _read_small(path, option, what, private=False):
    try:
        with open(path, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode & 0o777
            data = handle.read(MAX_KEPT_FILE + 1)
    except OSError as exc:
        fail(f"{option} {path}: cannot read it: {exc.strerror or exc}")
    if len(data) > MAX_KEPT_FILE:
        fail(f"{option} {path}: more than {MAX_KEPT_FILE} bytes: not {what}")
    # the .pub half given for the private one: said so, not "chmod 600" a public key
    if private and b"-----BEGIN PUBLIC KEY-----" in data:
        fail(f"{option} {path}: this is a public key; give the private key it was made "
             f"with (`plpbk keygen --out K` writes K, and K.pub beside it)")
    if private and mode & 0o077:
        fail(f"{option} {path}: this private key may be read or changed by others "
             f"(mode {mode:03o}); make it yours alone: chmod 600 {path}")
    return data


def read_key(path, option, private=False):
    """The bytes of a key file. A private key that others may read or write is refused,
    as ssh refuses one: what it signs proves nothing if anyone could have signed it
    (`plpbk keygen` writes mode 600)."""
    return _read_small(path, option, "a key", private)


def public_key(path, option="--public-key"):
    """A trusted Ed25519 public key (PEM, the .pub file of `plpbk keygen`)."""
    from ..ledger.verify import load_public_key
    data = read_key(path, option)
    try:
        return load_public_key(data)
    except ValueError as exc:
        fail(f"{option} {path}: not an Ed25519 public key in PEM form, such as the .pub file "
             f"of `plpbk keygen` ({first_sentence(exc)})")


def first_sentence(exc):
    """cryptography appends a URL and an error code to what it could not load."""
    return str(exc).split(". See ")[0].rstrip(".")


def read_json_object(path, option, what):
    """A small JSON object the operator kept (a checkpoint, a tree head), in UTF-8."""
    data = _read_small(path, option, what)
    try:
        value = json.loads(data.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError alike
        fail(f"{option} {path}: not {what}: cannot read it as UTF-8 JSON ({exc})")
    if not isinstance(value, dict):
        fail(f"{option} {path}: not {what}: expected a JSON object")
    return value
