"""Pure tests of the identifier validators."""

from __future__ import annotations

from datetime import date

import pytest
from govcodes.creditcode import InvalidCreditCode, check_char, validate_credit_code
from govcodes.idnumber import InvalidIdNumber, age_on, validate_id_number
from govcodes.itemcode import InvalidItemCode, implementation_code, validate_base_code

# The GB 11643 standard's own example number.
VALID_ID = "11010519491231002X"


def test_valid_id_number_passes_and_normalises() -> None:
    assert validate_id_number(VALID_ID.lower()) == VALID_ID
    assert age_on(VALID_ID, date(2026, 11, 25)) == 76


@pytest.mark.parametrize(
    ("number", "rule"),
    [
        ("11010519491231002", "18位"),
        ("110105194912310021", "校验位"),
        ("110105194913310028", "出生日期"),
        ("001105194912310022", "地区码"),
    ],
)
def test_invalid_id_numbers_name_the_rule(number: str, rule: str) -> None:
    with pytest.raises(InvalidIdNumber, match=rule):
        validate_id_number(number)


def test_every_single_digit_change_of_an_id_is_caught() -> None:
    for pos in range(17):
        for digit in "0123456789":
            if digit == VALID_ID[pos]:
                continue
            mutated = VALID_ID[:pos] + digit + VALID_ID[pos + 1 :]
            with pytest.raises(InvalidIdNumber):
                validate_id_number(mutated)


def test_credit_code_check_character() -> None:
    code = "91330702" + "MA2HXXXX".replace("X", "0") + "1"
    full = code + check_char(code)
    assert validate_credit_code(full) == full
    wrong = full[:-1] + ("0" if full[-1] != "0" else "1")
    with pytest.raises(InvalidCreditCode, match="校验位"):
        validate_credit_code(wrong)
    with pytest.raises(InvalidCreditCode, match="18位"):
        validate_credit_code("91330702MA2H00001I")


def test_item_codes() -> None:
    assert validate_base_code("330720001000") == "330720001000"
    with pytest.raises(InvalidItemCode, match="类型码"):
        validate_base_code("331520001000")
    credit = "11330702" + "002609730"
    credit += check_char(credit)
    impl = implementation_code(credit, "district", "330720001000")
    assert len(impl) == 31
    assert impl[18] == "4"
    with pytest.raises(InvalidItemCode, match="层级"):
        implementation_code(credit, "village", "330720001000")
