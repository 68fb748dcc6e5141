import pytest

from factoryshare import validation
from factoryshare.errors import ValidationFailed


def test_a_valid_nik_is_accepted_and_written_without_separators():
    assert validation.nik("3205.1012.0585.0001") == "3205101205850001"


def test_a_womans_nik_with_day_plus_forty_is_accepted():
    assert validation.nik("3205105205850001") == "3205105205850001"


@pytest.mark.parametrize(
    "bad",
    [
        "320510120585000",
        "32051012058500011",
        "32051012058500AB",
        "3205103205850001",
        "3205101213850001",
    ],
)
def test_a_nik_with_wrong_length_or_impossible_birth_date_is_refused_naming_the_field(bad):
    with pytest.raises(ValidationFailed) as info:
        validation.nik(bad)
    assert "owner_nik" in info.value.errors
    assert "NIK" in info.value.message


def test_a_nib_must_have_thirteen_digits():
    assert validation.nib("9100000000001") == "9100000000001"
    with pytest.raises(ValidationFailed) as info:
        validation.nib("910000000001")
    assert info.value.errors == {"nib": ["The NIB (from OSS) must be exactly 13 digits."]}


def test_an_old_npwp_with_its_check_digit_is_accepted_in_punctuated_form():
    assert validation.npwp("01.300.066.6-091.000") == "013000666091000"


def test_an_npwp_with_a_wrong_check_digit_is_refused():
    with pytest.raises(ValidationFailed) as info:
        validation.npwp("01.300.066.5-091.000")
    assert "npwp" in info.value.errors


@pytest.mark.parametrize(
    "raw",
    [
        "0812-3456-7890",
        "+62 812 3456 7890",
        "6281234567890",
        "(0)812 3456 7890".replace("(0)", "0"),
    ],
)
def test_indonesian_phone_numbers_become_e164(raw):
    assert validation.phone(raw) == "+6281234567890"


@pytest.mark.parametrize("bad", ["12345", "+1 202 555 0100", "0812", "08123456789012345"])
def test_a_phone_number_that_is_not_indonesian_is_refused(bad):
    with pytest.raises(ValidationFailed) as info:
        validation.phone(bad)
    assert "phone" in info.value.errors
