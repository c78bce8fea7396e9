"""The IdempotencyStore port (aiops.idempotency): MemoryClaims ↔ DynamoIdempotencyStore."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
TTL = timedelta(minutes=2)
DAY = timedelta(days=1)


def test_the_first_claim_of_a_key_is_granted_and_later_ones_refused(claims):
    first = claims.claim("event#1", NOW, TTL)
    second = claims.claim("event#1", NOW + timedelta(minutes=1), TTL)

    assert (first, second) == (True, False)
    assert claims.claim("event#2", NOW, TTL) is True


def test_a_claim_holds_to_the_end_of_its_ttl(claims):
    claims.claim("event#1", NOW, TTL)

    assert claims.claim("event#1", NOW + TTL, TTL) is False


def test_an_expired_claim_can_be_claimed_again(claims):
    claims.claim("event#1", NOW, TTL)

    assert claims.claim("event#1", NOW + TTL + timedelta(seconds=1), TTL) is True


def test_a_claim_expires_on_whole_seconds(claims):
    # Given a claim taken half-way through a second (expiry is kept in epoch seconds)
    claims.claim("event#1", NOW + timedelta(milliseconds=500), TTL)

    # When it is claimed again within the second its ttl ends in, then the second after
    within = claims.claim("event#1", NOW + TTL + timedelta(milliseconds=900), TTL)
    after = claims.claim("event#1", NOW + TTL + timedelta(seconds=1), TTL)

    # Then the claim holds through that whole second
    assert (within, after) == (False, True)


def test_an_unknown_or_unconfirmed_key_is_not_done(claims):
    claims.claim("event#1", NOW, TTL)

    assert claims.done("event#1") is False
    assert claims.done("event#2") is False


def test_a_confirmed_key_is_done_and_its_claim_holds_for_the_confirmed_ttl(claims):
    claims.claim("event#1", NOW, TTL)

    claims.confirm("event#1", NOW, DAY)

    assert claims.done("event#1") is True
    assert claims.claim("event#1", NOW + timedelta(hours=23), TTL) is False


def test_a_forgotten_claim_can_be_claimed_again_at_once(claims):
    claims.claim("event#1", NOW, TTL)

    claims.forget("event#1")

    assert claims.done("event#1") is False
    assert claims.claim("event#1", NOW, TTL) is True


def test_forgetting_a_done_key_makes_it_not_done(claims):
    claims.claim("event#1", NOW, TTL)
    claims.confirm("event#1", NOW, DAY)

    claims.forget("event#1")

    assert claims.done("event#1") is False
    assert claims.claim("event#1", NOW, TTL) is True


def test_forgetting_an_unknown_key_does_nothing(claims):
    claims.forget("event#1")

    assert claims.claim("event#1", NOW, TTL) is True


def test_a_key_claimed_again_after_its_done_claim_expired_is_no_longer_done(claims):
    # Given a key acted on and confirmed for a day
    claims.claim("event#1", NOW, TTL)
    claims.confirm("event#1", NOW, DAY)

    # When it is claimed again after that day
    again = claims.claim("event#1", NOW + DAY + timedelta(seconds=1), TTL)

    # Then the new claim is a fresh, unfinished action
    assert again is True
    assert claims.done("event#1") is False
