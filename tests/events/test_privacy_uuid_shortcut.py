"""The guard's lower-case UUID shortcut answers exactly what the full scan answers: clean.

`PrivacyGuard` skips the detectors for a lower-case UUID (every ``event_id`` is one, and each
is new); this holds the detectors to that, over random UUIDs of every version and the shapes
most likely to trip a numeric rule (all digits, repeated digits), with IP detection on and off.
"""

from __future__ import annotations

import random
import uuid

import pytest

from ai_telemetry.errors import PrivacyViolation
from ai_telemetry.events.privacy import _LOWER_UUID, PrivacyGuard, _get_detectors, rewrite_home


def _uuids() -> list[str]:
    rng = random.Random(15)
    values = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(3000)]
    values += [str(uuid.uuid4()) for _ in range(1000)]
    values += [str(uuid.uuid5(uuid.NAMESPACE_URL, str(n))) for n in range(1000)]
    for digit in "0123456789abcdef":
        values.append("-".join(digit * n for n in (8, 4, 4, 4, 12)))
    values += [
        "12345678-1234-1234-1234-123456789012",
        "55512345-5555-1234-5678-000012345678",
        "19700101-1200-0000-0000-192168000001",
        "41111111-1111-1111-1111-111111111111",
    ]
    for _ in range(2000):  # digits only: the numeric rules' best chance
        digits = "".join(rng.choice("0123456789") for _ in range(32))
        values.append(f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}")
    return values


@pytest.mark.parametrize("ip", [False, True])
def test_the_detectors_find_nothing_in_a_lower_case_uuid(ip: bool) -> None:
    detectors = _get_detectors()
    for value in _uuids():
        assert _LOWER_UUID(value), value
        assert rewrite_home(value) == value
        assert detectors.detect(value, ip=ip) is None, value


def test_the_shortcut_takes_only_lower_case_uuids() -> None:
    for value in (
        "12345678-1234-1234-1234-12345678901",
        "12345678-1234-1234-1234-1234567890123",
        "ABCDEF12-1234-1234-1234-123456789012",
        "12345678_1234-1234-1234-123456789012",
        " 2345678-1234-1234-1234-123456789012",
        "12345678-1234-1234-1234-12345678901\n",
    ):
        assert not _LOWER_UUID(value), value
    guard = PrivacyGuard(policy="reject")
    with pytest.raises(PrivacyViolation, match="event_id"):  # the id field is still scanned
        guard.scrub({"event_type": "skill_execution", "event_id": "jane.doe@example.com"})
    assert guard.scrub({"event_type": "skill_execution", "event_id": str(uuid.uuid4())})[1] == 0


def test_a_column_of_ids_is_lower_case_uuids_exactly_when_each_is() -> None:
    """`lower_uuids` (a batch's column of ids in one call) agrees with `_LOWER_UUID` of each
    value: a value holding two UUIDs on two lines, an upper-case one or a short one is not."""
    import random
    import uuid

    from ai_telemetry.events.privacy import _LOWER_UUID, lower_uuids

    rng = random.Random(3)
    fresh = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(50)]
    odd = [
        f"{fresh[0]}\n{fresh[1]}",
        fresh[2].upper(),
        fresh[3][:35],
        fresh[4] + "\n",
        "",
        f"{fresh[5]}\n",
    ]
    for _ in range(2000):
        values = set(rng.sample(fresh, rng.randrange(1, 6)))
        values |= set(rng.sample(odd, rng.choice([0, 0, 1, 2])))
        expected = all(_LOWER_UUID(v) is not None for v in values)
        assert lower_uuids(values) == expected, values
