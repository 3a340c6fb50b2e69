"""The one reader and writer of the .npy members inside fitcore's zip files (model files, weights
files, BackupAndRestore backups): plain arrays, never pickled.

Reading never trusts the archive: its directory's sizes must lie inside the file and within a
bounded compression ratio (check_archive), a member's npy header is checked against what the caller
expects before any data is read, and data is read in bounded chunks, so memory follows the bytes
really present, never the sizes a (hostile or damaged) file declares.
"""
import io
import zipfile

import numpy as np
from numpy.lib import format as npy

MAX_TEXT_BYTES = 1 << 24    # a text member (BackupAndRestore's metadata) is at most 16 MiB
MAX_COMPRESSION_RATIO = 1100  # deflate's own limit is about 1032:1; beyond is a bomb or a lie
_CHUNK = 1 << 20


def npy_bytes(array, dtype=None):
    """`array` as the bytes of a .npy file (C order, `dtype` when given), without pickling.

    Args:
        array: an array-like of numbers.
        dtype: the dtype to store, or None for the array's own.

    Returns:
        bytes.
    """
    buffer = io.BytesIO()
    npy.write_array(buffer, np.ascontiguousarray(array, dtype=dtype), allow_pickle=False)
    return buffer.getvalue()


def check_archive(archive, real_size):
    """Refuses an archive whose directory declares more than its `real_size` bytes can hold.

    Every member's compressed bytes must lie inside the file, a stored member's size must equal its
    stored bytes, and an unpacked size may be at most MAX_COMPRESSION_RATIO times the packed one.

    Args:
        archive: an open zipfile.ZipFile.
        real_size: the archive's size in bytes, as found on disk or in memory.

    Raises:
        ValueError: naming the first member whose declared sizes are impossible.
    """
    packed = 0
    for info in archive.infolist():
        if info.header_offset + info.compress_size > real_size:
            raise ValueError(f"entry {info.filename!r} declares {info.compress_size} bytes past the end of a "
                             f"{real_size}-byte file")
        if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            raise ValueError(f"entry {info.filename!r} is stored uncompressed but declares {info.file_size} bytes "
                             f"for {info.compress_size} stored")
        if info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
            raise ValueError(f"entry {info.filename!r} declares {info.file_size} bytes from {info.compress_size} "
                             f"compressed: a ratio beyond {MAX_COMPRESSION_RATIO}:1")
        packed += info.compress_size
    if packed > real_size:
        raise ValueError(f"the entries declare {packed} compressed bytes in a {real_size}-byte file")


def read_exactly(f, nbytes, name):
    """`nbytes` from the open member `f` into one buffer, read a chunk at a time; then checks that
    nothing follows (reading to the end also checks the CRC).

    Args:
        f: an open zip member.
        nbytes: how many bytes it must hold.
        name: the member's name, for messages.

    Returns:
        A bytearray of `nbytes`.
    """
    buffer = bytearray(nbytes)
    view, done = memoryview(buffer), 0
    while done < nbytes:
        chunk = f.read(min(_CHUNK, nbytes - done))
        if not chunk:
            raise ValueError(f"entry {name!r} is truncated: {done} of {nbytes} bytes")
        view[done:done + len(chunk)] = chunk
        done += len(chunk)
    if f.read(1):
        raise ValueError(f"entry {name!r} holds more bytes than its header declares")
    return buffer


def read_text(archive, info, limit):
    """A member's bytes, at most `limit` of them (a ValueError beyond), read a chunk at a time.

    Args:
        archive: an open zipfile.ZipFile (already passed through check_archive).
        info: the member's ZipInfo.
        limit: the most bytes accepted.

    Returns:
        bytes.
    """
    if info.file_size > limit:
        raise ValueError(f"entry {info.filename!r} declares {info.file_size} bytes, more than {limit}")
    with archive.open(info) as f:
        return bytes(read_exactly(f, info.file_size, info.filename))


def read_array(archive, info, shape):
    """The array in the .npy member `info`, which must have `shape` (None: a text string member).

    The header (dtype, shape, order) is checked before any data is read; any numeric dtype and
    either order load (the caller converts); object arrays are refused.

    Args:
        archive: an open zipfile.ZipFile (already passed through check_archive).
        info: the member's ZipInfo.
        shape: the expected shape, or None for a unicode text member.

    Returns:
        A numpy array owning its memory.

    Raises:
        ValueError: naming the entry, for any mismatch or damage.
    """
    name = info.filename
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
        data = read_exactly(f, nbytes, name)
    return np.frombuffer(data, dtype=dtype).reshape(got_shape, order="F" if fortran else "C")
