"""The gateway secret check: one scrypt per (stored hash, presented secret)."""

from __future__ import annotations

from kilnwatch.identity import hash_secret
from kilnwatch.ingest.gateways import SecretCheck


def test_matches_and_mismatches_are_checked_once() -> None:
    cache = SecretCheck()
    stored = hash_secret("right")
    assert cache.cached("right", stored) is None
    assert [cache.verify("right", stored) for _ in range(3)] == [True, True, True]
    assert [cache.verify("wrong", stored) for _ in range(3)] == [False, False, False]
    assert cache.checks == 2
    assert cache.cached("right", stored) is True and cache.cached("wrong", stored) is False


def test_a_rotated_hash_is_checked_afresh() -> None:
    cache = SecretCheck()
    old, new = hash_secret("first"), hash_secret("second")
    assert cache.verify("first", old)
    assert not cache.verify("first", new)  # the old secret does not open the new hash
    assert cache.verify("second", new)
    assert cache.checks == 3


def test_no_hash_never_matches_and_costs_nothing() -> None:
    cache = SecretCheck()
    assert cache.verify("anything", None) is False
    assert cache.verify("anything", "") is False
    assert cache.checks == 0


def test_least_recently_used_entry_goes_first() -> None:
    cache = SecretCheck(max_entries=2)
    stored = hash_secret("s")
    cache.verify("a", stored)
    cache.verify("b", stored)
    cache.cached("a", stored)  # "a" used again: "b" is now the oldest
    cache.verify("c", stored)
    assert cache.cached("a", stored) is False
    assert cache.cached("b", stored) is None
    assert cache.cached("c", stored) is False
