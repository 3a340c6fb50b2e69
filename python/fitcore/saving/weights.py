"""Weights files: a numpy .npz of plain arrays (never pickled), written atomically, read defensively.

Reading never trusts the file: member names must be plain names the caller expects, each member's
npy header (dtype, shape) is checked against what the caller expects BEFORE its data is read, and
object dtypes are refused, so a hostile or corrupted file gives a ValueError without running code,
touching other paths or allocating more than the expected arrays.
"""
import os
import re
import tempfile
import zipfile

import numpy as np
from numpy.lib import format as npy

_MEMBER = re.compile(r"[A-Za-z0-9_]{1,64}\.npy")  # no directories, no '..', nothing absolute
MAX_TEXT_BYTES = 1 << 24  # a text member (BackupAndRestore's metadata) is at most 16 MiB


def _npz_path(filepath):
    filepath = os.fspath(filepath)
    if not filepath.endswith(".npz"):
        raise ValueError(f"save_weights/load_weights: `filepath` must end in '.weights.npz' or '.npz', got {filepath!r}")
    return filepath


def atomic_write(filepath, write):
    """Calls write(file) on a temporary file beside `filepath` (named temporary_prefix(filepath) + a
    random part), then renames it into place: a crash mid-write never leaves a half-written file
    under the final name."""
    directory = os.path.dirname(os.path.abspath(filepath))
    fd, tmp = tempfile.mkstemp(prefix=temporary_prefix(filepath), dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; the file gets the usual permissions
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)  # the rename itself survives a power cut


def temporary_prefix(filepath):
    """How atomic_write names its temporary files for `filepath`: what a killed writer leaves behind."""
    return ".tmp-" + os.path.basename(filepath) + "-"


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


def _read_member(archive, info, shape, what):
    """One member's array, its header checked before its data is read. shape: the expected shape,
    or None for a text (unicode string) member."""
    name = info.filename[:-4]
    with archive.open(info) as f:
        version = npy.read_magic(f)
        if version == (1, 0):
            got_shape, fortran, dtype = npy.read_array_header_1_0(f)
        elif version == (2, 0):
            got_shape, fortran, dtype = npy.read_array_header_2_0(f)
        else:
            raise ValueError(f"entry {name!r} has an unsupported npy format version {version}")
        if dtype.hasobject:
            raise ValueError(f"entry {name!r} holds Python objects (dtype {dtype}); only plain arrays are read")
        if shape is None:
            if dtype.kind != "U" or got_shape != ():
                raise ValueError(f"entry {name!r} must be a text string, got dtype {dtype} and shape {got_shape}")
        elif dtype.kind not in "biuf":
            raise ValueError(f"entry {name!r} must hold numbers, got dtype {dtype}")
        elif tuple(got_shape) != tuple(shape):
            raise ValueError(f"entry {name!r} has shape {got_shape}, expected {tuple(shape)}")
        nbytes = int(np.prod(got_shape, dtype=np.int64)) * dtype.itemsize
        if shape is None and nbytes > MAX_TEXT_BYTES:
            raise ValueError(f"entry {name!r} declares {nbytes} bytes of text, more than {MAX_TEXT_BYTES}")
        if info.file_size != f.tell() + nbytes:
            raise ValueError(f"entry {name!r} is truncated or padded: {info.file_size - f.tell()} data bytes "
                             f"for a {dtype} array of shape {got_shape}")
        data = f.read(nbytes)
        if len(data) != nbytes or f.read(1):  # reading to the end also checks the CRC
            raise ValueError(f"entry {name!r} is truncated")
    array = np.frombuffer(data, dtype=dtype).reshape(got_shape, order="F" if fortran else "C")
    return array.copy()


def read_npz(filepath, shapes, texts=(), what="load_weights"):
    """{name: array} from an .npz holding exactly the members `shapes` ({name: expected shape}) and
    `texts` (names of text members). Any other content is a ValueError naming the file."""
    expected = set(shapes) | set(texts)
    try:
        with zipfile.ZipFile(filepath) as archive:
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
            return {i.filename[:-4]: _read_member(archive, i, shapes.get(i.filename[:-4]), what) for i in infos}
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
