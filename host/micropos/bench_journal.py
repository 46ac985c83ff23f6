"""Bytes programmed and sectors erased per refund: this journal beside a LittleFS-append baseline.

Both run in one unix-port process on the emulator's flash (boards/sim_flash.py),
each on its own 256 KB partition of 4 KB sectors, as the board's journal
partition is.  A refund is what the terminal journals for one: a pending
record before sending, an outcome after.  The baseline appends the same
record bytes to one LittleFS file and flushes after each, which is what
write-ahead needs (the record must be on flash before the message leaves).
"""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from micropos import paths

Figure = tuple[str, float, float]  # (what, bytes programmed per refund, erases per refund)

REFUNDS_LITTLEFS = 300
REFUNDS_JOURNAL = 6000  # more than the partition holds, so reclaiming sectors is in the figure
SETTLE_EVERY = 100

_SCRIPT = """
import vfs
from sim_flash import FileFlash
import journal as J
import kinds as K

flash = FileFlash(FLASH, 128)
lfs_part = flash.partition(0, 64)
raw_part = flash.partition(64, 64)

def refund(stan):
    return K.Txn(type=K.REFUND, amount=1234, currency=156, stan=stan % 1000000, time=1762855200 + stan,
                 pan="6212345678901234567", entry=K.ENTRY_SWIPE, reason=1, orig_rrn="612345678901",
                 orig_date=1111)

# What the flash did since ``before`` (a snapshot of its counters); one partition runs at a time.
def since(before):
    now = tuple(flash.counts)  # reads, bytes read, programs, bytes programmed, erases
    return [a - b for a, b in zip(now, before)] if before else now

pending = bytearray(64)
outcome = bytearray(64)
J.encode_pending(pending, 1, refund(1))
J.encode_outcome(outcome, 1, K.APPROVED, "531500000042", "A1B2C3", "00")
pending = bytes(pending[:39])
outcome = bytes(outcome[:25])

vfs.VfsLfs2.mkfs(lfs_part)
fs = vfs.VfsLfs2(lfs_part)
log = fs.open("/journal.bin", "ab")
for _ in range(20):  # past the file's first blocks
    log.write(pending); log.flush(); log.write(outcome); log.flush()
start = since(None)
for _ in range(LFS_N):
    log.write(pending); log.flush(); log.write(outcome); log.flush()
reads, read_bytes, programs, program_bytes, erases = since(start)
print("littlefs", LFS_N, program_bytes, erases, programs)
log.close()

j = J.Journal(raw_part)
start = since(None)
for stan in range(1, RAW_N + 1):
    seq = j.append_pending(refund(stan))
    j.set_outcome(seq, K.APPROVED, "531500000042", "A1B2C3", "00")
    if stan % SETTLE == 0:
        j.mark_settled(j.batch)
reads, read_bytes, programs, program_bytes, erases = since(start)
print("journal", RAW_N, program_bytes, erases, programs)
start = since(None)
J.Journal(raw_part)
reads, read_bytes, programs, program_bytes, erases = since(start)
print("recovery", reads, read_bytes)
"""


def _run() -> dict[str, list[int]]:
    """Runs the script on the unix port; returns its output lines keyed by their first word."""
    with tempfile.TemporaryDirectory() as tmp:
        flash = Path(tmp) / "bench.img"
        script = (_SCRIPT.replace("FLASH", repr(str(flash))).replace("LFS_N", str(REFUNDS_LITTLEFS))
                  .replace("RAW_N", str(REFUNDS_JOURNAL)).replace("SETTLE", str(SETTLE_EVERY)))
        proc = subprocess.run([str(paths.micropython()), "-X", "heapsize=1m", "-c", script],
                              env=paths.micropython_env(), capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"journal bench failed on the unix port:\n{proc.stdout}{proc.stderr}")
    return {line.split()[0]: [int(v) for v in line.split()[1:]] for line in proc.stdout.splitlines() if line.strip()}


def _figures(raw: dict[str, list[int]]) -> list[Figure]:
    figures: list[Figure] = []
    for key, label in (("journal", "raw journal (pending + outcome)"),
                       ("littlefs", "LittleFS append, flush per record")):
        refunds, programmed, erases, _programs = raw[key]
        figures.append((label, programmed / refunds, erases / refunds))
    return figures


def measure() -> list[Figure]:
    """Per-refund (bytes programmed, erases), the journal's first, the LittleFS baseline second; one run."""
    return _figures(_run())


def rows() -> list[tuple[str, str, str]]:
    """The figures as (what, value, how) rows for `make bench`'s table, plus the journal's boot recovery reads."""
    raw = _run()
    how = f"unix port, sim_flash, 4 KB sectors, 256 KB partition, {REFUNDS_JOURNAL} / {REFUNDS_LITTLEFS} refunds"
    table = [(f"{label}, per refund", f"{programmed:.1f} B programmed, {erases:.4f} erases", how)
             for label, programmed, erases in _figures(raw)]
    reads, read_bytes = raw["recovery"]
    table.append(("journal recovery at boot", f"{reads} reads, {read_bytes} B",
                  "device read counter while re-opening the journal after the run above"))
    return table


if __name__ == "__main__":
    for what, value, how in rows():
        print(f"{what:45s} {value:40s} {how}")
