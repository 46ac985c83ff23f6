import keys
from keys import KeyQueue


def test_names_match_the_design_card():
    assert keys.by_name("ENTER") == keys.ENTER
    assert keys.by_name("7") == 7
    for code in range(16):
        assert keys.by_name(keys.NAMES[code]) == code


def test_unknown_name_is_refused_in_words():
    try:
        keys.by_name("ESC")
    except ValueError as exc:
        assert str(exc) == "unknown key 'ESC'"
    else:
        raise AssertionError("no error")


def test_queue_keeps_order_across_wraparound():
    q = KeyQueue(4)
    out = []
    for k in range(10):
        assert q.put(k)
        out.append(q.get_nowait())
    assert out == list(range(10))
    assert q.get_nowait() == -1


def test_full_queue_drops_the_newest_and_says_so():
    q = KeyQueue(3)
    assert q.put(1) and q.put(2) and q.put(3)
    assert not q.overflowed
    assert q.put(4) is False
    assert q.overflowed
    assert [q.get_nowait() for _ in range(4)] == [1, 2, 3, -1]


def test_put_and_get_allocate_nothing():
    import gc
    q = KeyQueue(8)
    q.put(1)
    q.get_nowait()
    gc.collect()
    before = gc.mem_alloc()
    for k in range(100):
        q.put(k % 16)
        q.get_nowait()
    assert gc.mem_alloc() == before
