"""Rupiah typed on the pages are read the way the page's language writes them (babel): in
Indonesian 1.500.000 or 1.500.000,00, in English 1,500,000, and on every page the Indonesian
way the pages show amounts (Rp1.500.000); anything that is not a whole number of rupiah is
refused in words and nothing is paid out. Driven through the lender's tranche form."""

from __future__ import annotations

import datetime as dt

import pytest

from factoryshare.access import Actor
from factoryshare.models import Role
from factoryshare.models.financing import LoanStatus
from factoryshare.services import loans
from tests.web.helpers import csrf, sign_in

ADMIN = Actor(user_id=None, role=Role.admin)
APPROVED_ON = dt.date(2027, 1, 15)


@pytest.fixture()
def approved(db, make_member, make_cluster, make_lender, make_user, make_clock):
    """A loan of Rp12.000.000 approved by a bank on 15 Jan 2027, nothing paid out yet; the
    bank's credit officers in Indonesian and in English."""
    member = make_member()
    cluster = make_cluster(members=[member], chair_member_id=member.id)
    bank = make_lender()
    with make_clock.at(APPROVED_ON):
        app = loans.create(
            db,
            ADMIN,
            cluster_id=cluster.id,
            requested_amount=12_000_000,
            tenor_months=12,
            lender_id=bank.id,
            on=APPROVED_ON,
        )
        loans.submit(db, ADMIN, app.id)
        loans.approve(db, ADMIN, app.id)
        loans.lender_decision(db, ADMIN, app.id, True, reference="BRU/1")
    make_clock.set(APPROVED_ON)
    officers = {lang: make_user(Role.lender, lender=bank, language=lang) for lang in ("id", "en")}
    return app, officers


def _pay_out(client, app_id: int, amount: str) -> str:  # type: ignore[no-untyped-def]
    token = csrf(client, f"/lender/applications/{app_id}")
    r = client.post(
        f"/lender/applications/{app_id}/tranche",
        data={"csrf_token": token, "amount": amount, "on": "2027-01-15"},
    )
    return client.get(r.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize(
    ("lang", "typed"),
    [
        ("id", "12.000.000"),
        ("id", "12.000.000,00"),
        ("id", "Rp 12.000.000"),
        ("id", "12000000"),
        ("en", "12,000,000"),
        ("en", "12,000,000.00"),
        ("en", "12.000.000"),  # as the pages show it, whatever their language
    ],
)
def test_a_lender_pays_out_rupiah_typed_the_way_its_language_writes_them(
    client, db, approved, lang, typed
):
    app, officers = approved
    sign_in(client, officers[lang])
    page = _pay_out(client, app.id, typed)
    assert "Rp12.000.000" in page
    db.refresh(app)
    assert app.status is LoanStatus.repaying
    assert loans.disbursed_total(db, app) == 12_000_000


@pytest.mark.parametrize(
    ("lang", "typed"),
    [
        ("id", "dua belas juta"),
        ("en", "twelve million"),
        ("id", "12.000.000,50"),  # sen are not whole rupiah
        ("en", "12,000,000.50"),
        ("id", "12,000,000"),  # in Indonesian the comma marks the decimals, once
        ("en", "1.5"),  # one and a half rupiah, not 15
        ("en", "-12000000"),
        ("en", "1e7"),
    ],
)
def test_a_lender_is_told_when_what_it_typed_is_not_whole_rupiah_and_nothing_is_paid_out(
    client, db, approved, lang, typed
):
    app, officers = approved
    sign_in(client, officers[lang])
    page = _pay_out(client, app.id, typed)
    words = {
        "en": "Must be a positive whole number of rupiah.",
        "id": "Harus bilangan bulat rupiah yang positif.",
    }
    assert words[lang] in page
    db.refresh(app)
    assert app.status is LoanStatus.lender_approved
    assert loans.disbursed_total(db, app) == 0
