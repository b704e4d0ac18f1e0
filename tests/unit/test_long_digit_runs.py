"""Text that may hold an integer beyond 64 bits is read by the json module, not orjson."""

from __future__ import annotations

import pytest

from shared.text import holds_long_digit_run, json_value


@pytest.mark.parametrize(
    ("text", "holds"),
    [
        ('{"n": 1234567890123456789}', True),  # 19 digits
        ('{"n": 123456789012345678}', False),  # 18
        ('{"id": "x-12345678901234567890"}', True),  # in a string too: the check is cautious
        ('{"n": 123456789, "m": 1234567890}', False),  # runs apart
        ('{"n": "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨٩"}', False),  # not ASCII digits: never a JSON number
        ('{"s": "\ud800 1234567890123456789"}', True),  # a lone surrogate does not stop it
        ("", False),
    ],
)
def test_a_run_of_19_ascii_digits_is_found_in_text_and_bytes(text: str, holds: bool) -> None:
    assert holds_long_digit_run(text) is holds
    if "\ud800" not in text:
        assert holds_long_digit_run(text.encode()) is holds


def test_an_integer_beyond_64_bits_is_read_exactly() -> None:
    assert json_value('{"n": 123456789012345678901234567890}') == {
        "n": 123456789012345678901234567890
    }
    assert json_value('{"n": 12}') == {"n": 12}
