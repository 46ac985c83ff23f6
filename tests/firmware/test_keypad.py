import keys
from keys import KeyQueue
from keypad import MatrixKeypad
from fakes import FakeMatrix

# The 4x4 layout of design.md: 1 2 3 A / 4 5 6 B / 7 8 9 C / * 0 # D
KEYMAP = bytes((1, 2, 3, keys.FUNC, 4, 5, 6, keys.UP, 7, 8, 9, keys.DOWN,
                keys.CANCEL, 0, keys.ENTER, keys.CLEAR))


def _keypad(stable=4):
    matrix = FakeMatrix(4, 4)
    queue = KeyQueue(16)
    return matrix, queue, MatrixKeypad(matrix.rows, matrix.cols, KEYMAP, queue, stable_scans=stable)


def _scan(keypad, n):
    for _ in range(n):
        keypad.scan()


def _drain(queue):
    out = []
    while len(queue):
        out.append(queue.get_nowait())
    return out


def test_a_clean_press_is_one_event_for_the_mapped_key():
    matrix, queue, keypad = _keypad()
    matrix.contacts[14] = [1] * 10   # row 4, col 3: '#'
    _scan(keypad, 10)
    assert _drain(queue) == [keys.ENTER]


def test_bouncing_press_and_release_make_exactly_one_event():
    matrix, queue, keypad = _keypad()
    # press bounces 3 times, holds, release bounces twice, stays open
    matrix.contacts[3] = [1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]
    _scan(keypad, 30)
    assert _drain(queue) == [keys.FUNC]


def test_a_glitch_shorter_than_the_debounce_is_ignored():
    matrix, queue, keypad = _keypad(stable=4)
    matrix.contacts[5] = [0, 1, 1, 1, 0, 0, 0]   # three scans closed: under the 4 needed
    _scan(keypad, 10)
    assert _drain(queue) == []


def test_every_key_of_the_matrix_maps_to_its_logical_key():
    for k in range(16):
        matrix, queue, keypad = _keypad()
        matrix.contacts[k] = [1] * 6
        _scan(keypad, 6)
        assert _drain(queue) == [KEYMAP[k]], k


def test_two_keys_held_together_each_count_once():
    matrix, queue, keypad = _keypad()
    matrix.contacts[0] = [1] * 20
    matrix.contacts[9] = [0] * 5 + [1] * 15
    _scan(keypad, 20)
    assert _drain(queue) == [1, 8]


def test_rows_are_released_after_each_scan():
    matrix, queue, keypad = _keypad()
    keypad.scan()
    assert matrix.driven_low is None
    assert [row.value() for row in matrix.rows] == [1, 1, 1, 1]


def test_scanning_allocates_nothing():
    import gc
    matrix, queue, keypad = _keypad()
    matrix.contacts[0] = [1] * 100
    keypad.scan()
    gc.collect()
    before = gc.mem_alloc()
    _scan(keypad, 50)
    queue.get_nowait()
    assert gc.mem_alloc() == before


def test_wrong_keymap_size_is_refused():
    matrix = FakeMatrix(4, 4)
    try:
        MatrixKeypad(matrix.rows, matrix.cols, b"\x01\x02", KeyQueue())
    except ValueError as exc:
        assert "16 keys" in str(exc)
    else:
        raise AssertionError("no error")


class _Watchdog:
    def __init__(self):
        self.fed = 0

    def feed(self):
        self.fed += 1


def test_the_scan_loop_feeds_the_watchdog_and_a_hung_loop_stops_feeding_it():
    import asyncio

    matrix, queue, _ = _keypad()
    dog = _Watchdog()
    keypad = MatrixKeypad(matrix.rows, matrix.cols, KEYMAP, queue, watchdog=dog)

    async def hang_after(ms):
        await asyncio.sleep_ms(ms)
        fed = dog.fed
        for _ in range(20000):  # the event loop blocked: no task runs, so nothing feeds the watchdog
            pass
        return fed

    async def main():
        task = asyncio.create_task(keypad.run(period_ms=2))
        fed = await hang_after(30)
        assert dog.fed == fed, "nothing fed it while the loop was blocked"
        task.cancel()
        return fed

    fed = asyncio.run(main())
    assert fed >= 5, "fed on every scan: %d in 30 ms of 2 ms scans" % fed
