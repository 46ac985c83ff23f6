"""Stand-ins for hardware that cannot exist on the unix port: pins, an I2C bus, scratch flash images."""
import binascii
import os


class FakeMatrix:
    """A key matrix whose contacts bounce.

    ``contacts[k]`` is a list of 0/1 readings the key gives on successive
    scans (then it stays at its last value): e.g. [1, 0, 1, 1, 1, 1] is a press
    that bounces once.  Row pins record the level driven; column pins read
    low when a closed key joins them to the row being driven low.
    """

    def __init__(self, nrows, ncols):
        self.nrows = nrows
        self.ncols = ncols
        self.contacts = {}
        self.scan_no = 0
        self.driven_low = None
        self.rows = [_RowPin(self, r) for r in range(nrows)]
        self.cols = [_ColPin(self, c) for c in range(ncols)]

    def closed(self, key):
        seq = self.contacts.get(key)
        if not seq:
            return 0
        return seq[self.scan_no] if self.scan_no < len(seq) else seq[-1]


class _RowPin:
    def __init__(self, matrix, row):
        self.matrix = matrix
        self.row = row

    def value(self, level=None):
        if level is None:
            return 0 if self.matrix.driven_low == self.row else 1
        if level == 0:
            self.matrix.driven_low = self.row
        elif self.matrix.driven_low == self.row:
            self.matrix.driven_low = None
            if self.row == self.matrix.nrows - 1:
                self.matrix.scan_no += 1  # the last row released ends one scan


class _ColPin:
    def __init__(self, matrix, col):
        self.matrix = matrix
        self.col = col

    def value(self):
        row = self.matrix.driven_low
        if row is None:
            return 1
        return 0 if self.matrix.closed(row * self.matrix.ncols + self.col) else 1


class RecordingI2C:
    """Records every write; ``writevto`` parts are joined as the bus would send them."""

    def __init__(self):
        self.writes = []

    def writeto(self, addr, buf, stop=True):
        self.writes.append((addr, bytes(buf)))

    def writevto(self, addr, vector, stop=True):
        self.writes.append((addr, b"".join(bytes(v) for v in vector)))


def scratch_path(tag):
    """A flash image path of this test run's own, so parallel runs never share one."""
    return "/tmp/micropos_{}_{}.img".format(tag, binascii.hexlify(os.urandom(4)).decode())


def fresh_flash(path, blocks):
    """A blank (all 0xFF) file-backed flash of ``blocks`` 4 KB blocks at ``path``."""
    from sim_flash import FileFlash

    try:
        os.remove(path)
    except OSError:
        pass
    return FileFlash(path, blocks)
