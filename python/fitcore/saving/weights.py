"""Weights files: a numpy .npz of plain arrays (never pickled), written atomically, read defensively.

Reading never trusts the file: member names must be plain names the caller expects, the zip
directory's sizes must fit the file, each member's npy header (dtype, shape) is checked against
what the caller expects BEFORE its data is read (saving/npy.py), and object dtypes are refused, so
a hostile or corrupted file gives a ValueError without running code, touching other paths or
allocating more than the expected arrays.

Writing goes through a temporary file beside the target, renamed over it: through a symlink to
its target (the link stays), keeping an existing file's permissions.
"""
import os
import re
import stat
import tempfile
import zipfile

import numpy as np

from fitcore.saving.npy import MAX_TEXT_BYTES, check_archive, read_array  # noqa: F401 (MAX_TEXT_BYTES: API)

_MEMBER = re.compile(r"[A-Za-z0-9_]{1,64}\.npy")  # no directories, no '..', nothing absolute
_RANDOM_CHARS = 8  # what tempfile.mkstemp adds to a prefix


def _npz_path(filepath):
    filepath = os.fspath(filepath)
    if not filepath.endswith(".npz"):
        raise ValueError(f"save_weights/load_weights: `filepath` must end in '.weights.npz' or '.npz', got {filepath!r}")
    return filepath


def atomic_write(filepath, write):
    """Writes a file atomically: a crash mid-write never leaves a half-written file under its name.

    Calls write(file) on a temporary file in the destination's directory (named
    temporary_prefix(filepath) + a random part), then renames it over the destination. A symlink is
    written through: its target gets the new content and the link stays a link. An existing
    file's permission bits are kept; a new file gets the usual 0666 & ~umask.

    In a data-parallel run, process 0 alone writes (the others hold the same content).

    Args:
        filepath: the destination path.
        write: a function of one binary file object that writes the content.
    """
    from fitcore.distribution import is_chief

    if not is_chief():
        return
    target = os.path.realpath(filepath)  # through symlinks (a dangling one: its target is created)
    directory = os.path.dirname(target)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=temporary_prefix(target), dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)  # mkstemp makes 0600
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)  # the rename itself survives a power cut


def temporary_prefix(filepath):
    """How atomic_write names its temporary files for `filepath`: what a killed writer leaves
    behind. The file's name is shortened so the temporary name fits the file system's limit
    whatever the length of the name itself."""
    directory = os.path.dirname(os.path.abspath(filepath))
    try:
        name_max = os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError):
        name_max = 255
    room = max(1, name_max - _RANDOM_CHARS - len(".tmp--"))
    return ".tmp-" + os.path.basename(filepath)[:room] + "-"


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_directory(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_npz(filepath, shapes, texts=(), what="load_weights"):
    """{name: array} from an .npz holding exactly the members `shapes` ({name: expected shape}) and
    `texts` (names of text members). Any other content is a ValueError naming the file."""
    expected = set(shapes) | set(texts)
    try:
        with zipfile.ZipFile(filepath) as archive:
            check_archive(archive, os.path.getsize(filepath))
            infos = archive.infolist()
            names = [i.filename for i in infos]
            strange = [n for n in names if not _MEMBER.fullmatch(n)]
            if strange:
                raise ValueError(f"unexpected entry names {strange[:5]}")
            if len(set(names)) != len(names):
                raise ValueError("repeated entry names")
            found = {n[:-4] for n in names}
            if found != expected:
                missing, extra = sorted(expected - found), sorted(found - expected)
                raise ValueError(f"expected {len(expected)} entries, found {len(found)}"
                                 + (f"; missing {missing[:5]}" if missing else "")
                                 + (f"; unexpected {extra[:5]}" if extra else ""))
            return {i.filename[:-4]: read_array(archive, i, shapes.get(i.filename[:-4])) for i in infos}
    except FileNotFoundError:
        raise
    except Exception as error:  # any malformed content: a bad zip, a bad header, a CRC mismatch...
        raise ValueError(f"{what}: {os.fspath(filepath)!r} is not a valid file: {error}") from None


def save_weights(model, filepath):
    filepath = _npz_path(filepath)
    arrays = {f"w{i:04d}": w.numpy() for i, w in enumerate(model.weights)}
    atomic_write(filepath, lambda f: np.savez(f, **arrays))


def load_weights(model, filepath):
    filepath = _npz_path(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"load_weights: no such file {filepath!r}")
    if not os.path.isfile(filepath):
        raise ValueError(f"load_weights: `filepath` {filepath!r} is not a file")
    shapes = {f"w{i:04d}": w.shape for i, w in enumerate(model.weights)}
    values = read_npz(filepath, shapes)
    model.set_weights([values[name] for name in sorted(shapes)])
