"""A file-backed NOR flash for the emulator, with the block protocol of esp32.Partition.

NOR rules are enforced: a program only clears bits (new = old AND data), an
erase sets a whole block to 0xFF.  Every read, program and erase is counted,
so tests and benchmarks can measure what a journal costs, and a power cut can
be injected at the n-th program or erase, optionally half-applying it.
The file persists across runs: re-opening it is the "reboot".
"""
import os
from micropython import const

_IOCTL_INIT = const(1)
_IOCTL_DEINIT = const(2)
_IOCTL_SYNC = const(3)
_IOCTL_BLOCK_COUNT = const(4)
_IOCTL_BLOCK_SIZE = const(5)
_IOCTL_BLOCK_ERASE = const(6)

_CHUNK = const(256)


class PowerCut(BaseException):
    """Power was lost.  A BaseException so that `except Exception` in code under test cannot swallow it."""


class FileFlash:
    """NOR flash held in a file of block_count * block_size bytes, created erased (0xFF) when absent.

    Counts every read, program and erase since it was opened (its partitions' too), in
    ``counts``: reads, bytes read, programs, bytes programmed, erases (one list, not five
    attributes, and private names that reuse names the firmware already has (``_read``,
    ``_write``, ``_buf``...): on the unix port every distinct name costs the heap a qstr for good,
    and this part exists only there).
    """

    def __init__(self, path, block_count, block_size=4096):
        self.counts = [0, 0, 0, 0, 0]
        self.path = path
        self.block_count = block_count
        self.block_size = block_size
        size = block_count * block_size
        try:
            existing = os.stat(path)[6]
        except OSError:
            existing = -1
        if existing < 0:
            with open(path, "wb") as f:
                blank = b"\xff" * block_size
                for _ in range(block_count):
                    f.write(blank)
        elif existing != size:
            raise ValueError("flash file has {} bytes, expected {}".format(existing, size))
        self._file = open(path, "r+b")
        self._buf = bytearray(_CHUNK)
        self._cut = 0
        self.half = False
        self.dead = False

    # --- power-cut injection -------------------------------------------------

    def cut_after(self, n, half=False):
        """The n-th program or erase from now (1 = the next one) raises PowerCut.

        It applies nothing, or with half=True a prefix of a program's bytes, or
        for an erase the first half of the block only.  After the cut every
        further program or erase raises PowerCut too, as a dead device would.
        """
        if n < 1:
            raise ValueError("n must be >= 1")
        self._cut = n
        self.half = half

    def cancel_cut(self):
        self._cut = 0

    def _cut_now(self):
        """Counts one program/erase; True when this is the one that loses power."""
        if self.dead:
            raise PowerCut("device is off")
        if self._cut:
            self._cut -= 1
            if self._cut == 0:
                self.dead = True
                return True
        return False

    # --- raw operations ------------------------------------------------------

    def _check(self, addr, length):
        if addr < 0 or addr + length > self.block_count * self.block_size:
            raise OSError(22)  # EINVAL, as a partition out of range would say

    def _read(self, addr, buf):
        self._check(addr, len(buf))
        self.counts[0] += 1
        self.counts[1] += len(buf)
        self._file.seek(addr)
        n = self._file.readinto(buf)
        if n != len(buf):
            raise OSError(5)

    def _write(self, addr, data):
        """new = old AND data, in chunks, through the preallocated scratch buffer."""
        length = len(data)
        self._check(addr, length)
        cut = self._cut_now()
        if cut:
            if not self.half:
                raise PowerCut("program dropped")
            length = length // 2
        self.counts[2] += 1
        self.counts[3] += length
        done = 0
        scratch = self._buf
        while done < length:
            n = min(_CHUNK, length - done)
            view = memoryview(scratch)[:n]
            self._file.seek(addr + done)
            self._file.readinto(view)
            for i in range(n):
                scratch[i] &= data[done + i]
            self._file.seek(addr + done)
            self._file.write(view)
            done += n
        self._file.flush()
        if cut:
            raise PowerCut("program half-applied")

    def _erase(self, block):
        self._check(block * self.block_size, self.block_size)
        cut = self._cut_now()
        if cut and not self.half:
            raise PowerCut("erase dropped")
        self.counts[4] += 1
        length = self.block_size // 2 if cut else self.block_size
        blank = b"\xff" * _CHUNK
        self._file.seek(block * self.block_size)
        for _ in range(length // _CHUNK):
            self._file.write(blank)
        self._file.write(blank[: length % _CHUNK])
        self._file.flush()
        if cut:
            raise PowerCut("erase half-applied")

    # --- block protocol (as esp32.Partition) ---------------------------------

    def readblocks(self, block, buf, offset=0):
        self._read(block * self.block_size + offset, buf)

    def writeblocks(self, block, buf, offset=None):
        if offset is None:
            touched = (len(buf) + self.block_size - 1) // self.block_size
            for b in range(block, block + touched):
                self._erase(b)
            offset = 0
        self._write(block * self.block_size + offset, buf)

    def ioctl(self, op, arg):
        if op == _IOCTL_BLOCK_COUNT:
            return self.block_count
        if op == _IOCTL_BLOCK_SIZE:
            return self.block_size
        if op == _IOCTL_BLOCK_ERASE:
            self._erase(arg)
            return 0
        if op in (_IOCTL_INIT, _IOCTL_DEINIT, _IOCTL_SYNC):
            return 0
        return None

    def partition(self, first_block, block_count):
        """A view of block_count blocks from first_block, like one entry of the ESP32 partition table."""
        if first_block < 0 or first_block + block_count > self.block_count:
            raise ValueError("partition outside the flash")
        return FlashPartition(self, first_block, block_count)

    def close(self):
        self._file.close()


class FlashPartition:
    """A window on a FileFlash with the same block protocol, like one entry of a partition table."""

    def __init__(self, device, first_block, block_count):
        self._dev = device
        self.first_block = first_block
        self.block_count = block_count
        self.block_size = device.block_size

    def _check(self, block, length, offset):
        if block < 0 or (block * self.block_size + offset + length) > self.block_count * self.block_size:
            raise OSError(22)

    def readblocks(self, block, buf, offset=0):
        self._check(block, len(buf), offset)
        self._dev.readblocks(self.first_block + block, buf, offset)

    def writeblocks(self, block, buf, offset=None):
        self._check(block, len(buf), offset or 0)
        self._dev.writeblocks(self.first_block + block, buf, offset)

    def ioctl(self, op, arg):
        if op == _IOCTL_BLOCK_COUNT:
            return self.block_count
        if op == _IOCTL_BLOCK_ERASE:
            self._check(arg, self.block_size, 0)
            arg += self.first_block
        return self._dev.ioctl(op, arg)
