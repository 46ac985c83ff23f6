"""The emulator's flash behaves as NOR flash behind esp32.Partition's block protocol."""
import os
import vfs

from sim_flash import FileFlash, PowerCut
from fakes import fresh_flash, scratch_path

# FileFlash.counts, in order
READS, READ_BYTES, PROGRAMS, PROGRAM_BYTES, ERASES = range(5)


# one file per run, so concurrent runs of this module do not share a flash
_PATH = scratch_path("sim_flash")


def _fresh(blocks=4):
    return fresh_flash(_PATH, blocks)


def _read(dev, block, offset, n):
    buf = bytearray(n)
    dev.readblocks(block, buf, offset)
    return bytes(buf)


def test_new_file_is_erased_and_sized():
    dev = _fresh(3)
    assert dev.ioctl(4, 0) == 3
    assert dev.ioctl(5, 0) == 4096
    assert os.stat(_PATH)[6] == 3 * 4096
    assert _read(dev, 2, 4000, 96) == b"\xff" * 96
    for op in (1, 2, 3):
        assert dev.ioctl(op, 0) == 0


def test_program_only_clears_bits():
    dev = _fresh()
    dev.writeblocks(1, b"\xf0\x0f\xaa", 10)
    dev.writeblocks(1, b"\x3c\xff\x0f", 10)
    assert _read(dev, 1, 9, 5) == b"\xff\x30\x0f\x0a\xff"
    assert dev.counts[PROGRAMS] == 2 and dev.counts[PROGRAM_BYTES] == 6 and dev.counts[ERASES] == 0


def test_erase_sets_one_block_to_ff():
    dev = _fresh()
    dev.writeblocks(0, b"\x00" * 8, 4090)
    dev.writeblocks(1, b"\x00" * 8, 0)
    assert dev.ioctl(6, 1) == 0
    assert _read(dev, 1, 0, 8) == b"\xff" * 8
    assert _read(dev, 0, 4090, 6) == b"\x00" * 6
    assert dev.counts[ERASES] == 1


def test_writeblocks_without_offset_erases_then_programs():
    dev = _fresh()
    dev.writeblocks(0, b"\x00" * 16, 0)
    dev.writeblocks(0, b"\x12" * 5000)
    assert _read(dev, 0, 0, 16) == b"\x12" * 16
    assert _read(dev, 1, 900, 4) == b"\x12" * 4
    assert _read(dev, 1, 904, 4) == b"\xff" * 4
    assert dev.counts[ERASES] == 2


def test_contents_persist_across_reopen():
    dev = _fresh()
    dev.writeblocks(2, b"micropos", 100)
    dev.close()
    again = FileFlash(_PATH, 4)
    assert _read(again, 2, 100, 8) == b"micropos"


def test_wrong_size_file_is_refused():
    _fresh(4).close()
    try:
        FileFlash(_PATH, 5)
    except ValueError:
        return
    assert False, "a 4-block file opened as 5 blocks"


def test_partition_is_a_window_counted_by_its_device():
    dev = _fresh(4)
    part = dev.partition(2, 2)
    assert part.ioctl(4, 0) == 2 and part.ioctl(5, 0) == 4096
    part.writeblocks(0, b"\x01\x02", 7)
    part.ioctl(6, 1)
    assert _read(dev, 2, 7, 2) == b"\x01\x02"
    assert dev.counts[PROGRAMS] == 1 and dev.counts[PROGRAM_BYTES] == 2 and dev.counts[ERASES] == 1
    reads = dev.counts[READS]
    assert _read(part, 0, 7, 2) == b"\x01\x02"
    assert dev.counts[READS] == reads + 1
    try:
        part.writeblocks(2, b"x", 0)
    except OSError:
        pass
    else:
        assert False, "wrote past the partition"


def test_cut_drops_the_nth_write_then_device_is_dead():
    dev = _fresh()
    dev.cut_after(2)
    dev.writeblocks(0, b"\x00\x00", 0)
    try:
        dev.writeblocks(0, b"\x00\x00", 2)
    except PowerCut:
        pass
    else:
        assert False, "no power cut"
    assert _read(dev, 0, 0, 4) == b"\x00\x00\xff\xff"
    for attempt in (lambda: dev.writeblocks(0, b"\x00", 8), lambda: dev.ioctl(6, 0)):
        try:
            attempt()
        except PowerCut:
            pass
        else:
            assert False, "a dead device accepted a write"


def test_half_cut_program_applies_a_prefix():
    dev = _fresh()
    dev.cut_after(1, half=True)
    try:
        dev.writeblocks(0, b"\x00" * 10, 0)
    except PowerCut:
        pass
    assert _read(dev, 0, 0, 10) == b"\x00" * 5 + b"\xff" * 5


def test_half_cut_erase_leaves_the_block_partly_erased():
    dev = _fresh()
    dev.writeblocks(1, b"\x00" * 4096, 0)
    dev.cut_after(1, half=True)
    try:
        dev.ioctl(6, 1)
    except PowerCut:
        pass
    else:
        assert False, "no power cut"
    assert _read(dev, 1, 0, 4) == b"\xff" * 4
    assert _read(dev, 1, 4092, 4) == b"\x00" * 4


def test_power_cut_is_not_an_exception():
    # code under test that catches Exception must not swallow a power cut
    assert issubclass(PowerCut, BaseException) and not issubclass(PowerCut, Exception)


def test_littlefs_mounts_on_a_partition_and_survives_reopen():
    dev = _fresh(16)
    part = dev.partition(0, 12)
    vfs.VfsLfs2.mkfs(part)
    fs = vfs.VfsLfs2(part)
    with fs.open("/hello.txt", "w") as f:
        f.write("journal lives beside me")
    dev.close()
    fs = vfs.VfsLfs2(FileFlash(_PATH, 16).partition(0, 12))
    with fs.open("/hello.txt", "r") as f:
        assert f.read() == "journal lives beside me"


def test_zz_remove_the_flash_file():
    os.remove(_PATH)
