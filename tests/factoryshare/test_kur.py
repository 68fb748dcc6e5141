import datetime as dt

import pytest

from factoryshare.errors import NotFound, ValidationFailed
from factoryshare.models.financing import KurSchemeCode
from factoryshare.services import kur

ON = dt.date(2026, 11, 23)


def request(**overrides):
    values = dict(
        amount=200_000_000,
        tenor_months=36,
        purpose="working_capital",
        annual_turnover=1_000_000_000,
        has_npwp=True,
    )
    values.update(overrides)
    return kur.Request(**values)


def test_a_fresh_database_has_the_2026_cluster_scheme_at_six_percent_up_to_500_million(db):
    scheme = kur.scheme_in_force(db, KurSchemeCode.khusus, ON)

    assert scheme.annual_rate_bps == 600
    assert scheme.ceiling == 500_000_000
    assert scheme.turnover_cap == 4_800_000_000


def test_no_scheme_is_in_force_before_the_2026_rules_were_signed(db):
    with pytest.raises(NotFound):
        kur.scheme_in_force(db, KurSchemeCode.khusus, dt.date(2025, 12, 31))


def test_a_loan_within_the_cluster_scheme_is_eligible(db):
    kur.check_eligibility(kur.scheme_in_force(db, KurSchemeCode.khusus, ON), request())


def test_an_ineligible_request_names_every_rule_it_breaks(db):
    scheme = kur.scheme_in_force(db, KurSchemeCode.khusus, ON)

    with pytest.raises(ValidationFailed) as caught:
        kur.check_eligibility(
            scheme,
            request(
                amount=600_000_000, tenor_months=61, annual_turnover=5_000_000_000, has_npwp=False
            ),
        )

    assert set(caught.value.errors) == {"amount", "tenor_months", "annual_turnover", "npwp"}


def test_a_small_super_mikro_loan_needs_no_npwp(db):
    scheme = kur.scheme_in_force(db, KurSchemeCode.super_mikro, ON)

    kur.check_eligibility(scheme, request(amount=10_000_000, tenor_months=12, has_npwp=False))


def test_investment_loans_may_run_longer_than_working_capital(db):
    scheme = kur.scheme_in_force(db, KurSchemeCode.mikro, ON)

    kur.check_eligibility(scheme, request(amount=80_000_000, tenor_months=60, purpose="investment"))
    with pytest.raises(ValidationFailed) as caught:
        kur.check_eligibility(scheme, request(amount=80_000_000, tenor_months=60))
    assert set(caught.value.errors) == {"tenor_months"}
