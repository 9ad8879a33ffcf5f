import numpy as np

from deepsc_st.remember import LastListMemory, PerItemMemory, content_key


def test_content_key_depends_on_the_samples_and_where_each_array_ends():
    a, b = np.arange(4, dtype=np.float32), np.ones(2, np.float32)
    assert content_key(a, b) == content_key(a.copy(), b.astype(np.float64))
    assert content_key(a, b) != content_key(b, a)
    assert content_key(np.arange(6, dtype=np.float32)) != content_key(np.arange(3, dtype=np.float32), np.arange(3, 6, dtype=np.float32))


def test_per_item_memory_computes_only_items_the_last_call_did_not_have():
    calls = []

    def double(x, y):
        calls.append(float(x[0]))
        return x * 2 + y

    memory = PerItemMemory(double)
    ones, twos, threes = (np.full(3, v, np.float32) for v in (1, 2, 3))
    first = memory([ones, twos], [ones, ones])
    again = memory([ones, threes], [ones, ones])
    np.testing.assert_array_equal(again[0], first[0])
    np.testing.assert_array_equal(again[1], threes * 2 + 1)
    assert calls == [1.0, 2.0, 3.0]
    memory([twos], [ones])  # forgotten: only the previous call's items are kept
    assert calls == [1.0, 2.0, 3.0, 2.0]


def test_per_item_memory_with_threads_gives_the_same_results_in_order():
    items = [np.full(3, v, np.float32) for v in (1, 2, 3, 2, 4)]  # a repeated item is computed once
    calls = []
    threaded = PerItemMemory(lambda x: calls.append(float(x[0])) or x * 3, threads=2)
    for result, item in zip(threaded(items), items):
        np.testing.assert_array_equal(result, item * 3)
    assert sorted(calls) == [1.0, 2.0, 3.0, 4.0]


def test_last_list_memory_reuses_only_an_identical_list():
    calls = []
    memory = LastListMemory(lambda arrays: calls.append(len(arrays)) or sum(float(a.sum()) for a in arrays))
    ones = np.ones(3, np.float32)
    assert memory([ones, ones]) == memory([ones.copy(), ones]) == 6.0
    assert memory([ones]) == 3.0 and calls == [2, 1]


def test_last_list_memory_keeps_the_most_recently_used_lists():
    calls = []
    memory = LastListMemory(lambda arrays: calls.append(len(arrays)) or len(arrays), lists=2)
    one, two, three = ([np.full(2, v, np.float32)] * v for v in (1, 2, 3))
    memory(one), memory(two), memory(one), memory(three)  # three pushes out two, the least recently used
    assert calls == [1, 2, 3]
    memory(one)
    memory(two)
    assert calls == [1, 2, 3, 2]
