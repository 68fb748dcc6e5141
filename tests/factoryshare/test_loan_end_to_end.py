"""One KUR Klaster loan through the HTTP API from the offtake agreement to its closing: two
tranches, an early partial repayment, one late installment (collectability 2), and every
rupiah checked against the computation below, written with plain Decimal arithmetic (it calls
none of the service's functions).

The rule (services/repayment.py): 0,5 % a month on the principal outstanding, pro rata by days
when it changes inside a period; each change re-amortises the installments not yet due (a
partial early repayment in `shorten_term` keeps the level installment); round half-even to the
rupiah; the last installment takes what is left.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

from factoryshare.models import Role

RATE = Decimal("0.005")  # 6 % a year
D = dt.date


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _annuity(balance: int, months: int) -> int:
    factor = (1 + RATE) ** months
    return _round(balance * RATE * factor / (factor - 1))


def _due(k: int) -> dt.date:
    """Installment k's due date: the 6th, k months after 6 Jan 2027."""
    month = k % 12 + 1
    year = 2027 + k // 12
    return D(year, month, min(6, calendar.monthrange(year, month)[1]))


def _expected() -> tuple[list[tuple[int, int]], dict[str, int]]:
    """(principal, interest) of every installment, and the early repayment's figures."""
    rows: list[tuple[int, int]] = []
    # Tranche 1: Rp20 juta on 6 Jan 2027, 12 installments.
    balance = 20_000_000
    level = _annuity(balance, 12)
    for _k in range(1, 4):
        interest = _round(balance * RATE)
        rows.append((level - interest, interest))
        balance -= level - interest
    # Tranche 2: Rp30 juta on 6 Apr 2027 (installment 3's due date): 9 installments left.
    balance += 30_000_000
    level = _annuity(balance, 9)
    interest = _round(balance * RATE)
    rows.append((level - interest, interest))  # installment 4, due 6 May
    balance -= level - interest
    # Early repayment of Rp10 juta on 21 May 2027, shortening the term: installment 5's period
    # (6 May - 6 Jun, 31 days) has 15 days at the old balance and 16 at the new one.
    days_before, days_after = (
        (D(2027, 5, 21) - D(2027, 5, 6)).days,
        (D(2027, 6, 6) - D(2027, 5, 21)).days,
    )
    interest = _round(
        RATE
        * (balance * days_before + (balance - 10_000_000) * days_after)
        / (days_before + days_after)
    )
    balance -= 10_000_000
    early = {"balance_before": balance + 10_000_000, "interest_5": interest}
    while True:
        part = min(balance, level - interest)
        rows.append((part, interest))
        balance -= part
        if balance == 0:
            break
        interest = _round(balance * RATE)
        if len(rows) == 11:  # the last installment left takes the rest
            rows.append((balance, interest))
            break
    return rows, early


def test_an_offtake_backed_loan_from_agreement_to_closing_every_rupiah_accounted_for(
    client,
    db,
    token_for,
    make_user,
    make_house,
    make_member,
    make_cluster,
    make_aggregator,
    make_product,
    make_clock,
):
    house = make_house()
    aggregator = make_aggregator(approval_limit=100_000_000)
    chair, other = make_member(house=house), make_member(house=house)
    cluster = make_cluster(
        aggregator=aggregator, members=[chair, other], chair_member_id=chair.id, house_id=house.id
    )
    product = make_product(member=chair)
    lender = make_user(Role.lender)
    as_ = {
        "chair": token_for(make_user(Role.member, member=chair)),
        "agg": token_for(make_user(Role.aggregator, aggregator=aggregator)),
        "lender": token_for(lender),
    }
    expected, early = _expected()

    # The offtake agreement, the application, the endorsement and the bank's approval.
    make_clock.set(D(2027, 1, 6))
    r = client.post(
        "/api/v1/offtake-agreements",
        headers=as_["agg"],
        json={
            "cluster_id": cluster.id,
            "product_id": product.id,
            "quantity": 1000,
            "unit_price": 100_000,
            "deliveries": [{"due_on": "2027-12-20", "quantity": 1000}],
        },
    )
    assert r.status_code == 201, r.json
    agreement = r.json["id"]
    r = client.post(
        "/api/v1/loan-applications",
        headers=as_["chair"],
        json={
            "cluster_id": cluster.id,
            "requested_amount": 50_000_000,
            "tenor_months": 12,
            "lender_id": lender.lender_id,
        },
    )
    assert r.status_code == 201, r.json
    loan_id = r.json["id"]
    base = f"/api/v1/loan-applications/{loan_id}"
    assert client.post(f"{base}/submit", headers=as_["chair"], json={}).status_code == 200
    assert client.post(f"{base}/approve", headers=as_["agg"], json={}).json["status"] == "approved"
    r = client.post(
        f"{base}/lender-decision",
        headers=as_["lender"],
        json={
            "approved": True,
            "reference": "KUR/2027/0007",
            "rate_percent": 6,
            "tenor_months": 12,
        },
    )
    assert r.status_code == 200, r.json

    # Tranche 1: Rp20 juta today. Interest runs on it only.
    r = client.post(
        f"{base}/disburse", headers=as_["lender"], json={"amount": 20_000_000, "on": "2027-01-06"}
    )
    assert r.status_code == 200, r.json
    loan = client.get(f"/api/v1/loans/{loan_id}", headers=as_["agg"]).json
    assert loan["disbursed"] == 20_000_000 and loan["outstanding"] == 20_000_000
    assert loan["installments"][0]["interest"] == 100_000
    assert len(loan["installments"]) == 12

    def pay(number: int, day: dt.date) -> dict:
        make_clock.set(day)
        inst = client.get(f"/api/v1/loans/{loan_id}", headers=as_["agg"]).json["installments"][
            number - 1
        ]
        r = client.post(
            f"{base}/installments/{number}/repayments",
            headers=as_["agg"],
            json={"amount": inst["amount"] - inst["paid"], "on": day.isoformat()},
        )
        assert r.status_code == 201, r.json
        return r.json

    for k in (1, 2, 3):
        pay(k, _due(k))

    # Tranche 2: Rp30 juta on installment 3's due date; the 9 installments left are rebuilt.
    r = client.post(
        f"{base}/tranches", headers=as_["lender"], json={"amount": 30_000_000, "on": "2027-04-06"}
    )
    assert r.status_code == 201, r.json
    pay(4, _due(4))

    # An early partial repayment of Rp10 juta on 21 May 2027, shortening the term.
    make_clock.set(D(2027, 5, 21))
    r = client.post(
        f"/api/v1/loans/{loan_id}/prepayments",
        headers=as_["agg"],
        json={"amount": 10_000_000, "on": "2027-05-21", "mode": "shorten_term"},
    )
    assert r.status_code == 201, r.json
    loan = r.json
    assert loan["outstanding"] == early["balance_before"] - 10_000_000
    assert loan["prepayments"][0]["principal"] == 10_000_000
    assert loan["prepayments"][0]["mode"] == "shorten_term"
    got = [(i["principal"], i["interest"]) for i in loan["installments"]]
    assert got == expected
    assert got[4][1] == early["interest_5"]
    assert [i["due_date"] for i in loan["installments"]] == [
        _due(k).isoformat() for k in range(1, len(expected) + 1)
    ]
    pay(5, _due(5))

    # Installment 6 is paid 14 days late, from an offtake purchase: collectability 2 meanwhile.
    late = D(2027, 7, 20)
    make_clock.set(late)
    loan = client.get(f"/api/v1/loans/{loan_id}?on=2027-07-20", headers=as_["lender"]).json
    assert loan["installments"][5]["days_past_due"] == 14
    assert (loan["days_past_due"], loan["collectability"]) == (14, 2)
    six = loan["installments"][5]
    r = client.post(
        f"/api/v1/offtake-agreements/{agreement}/purchases",
        headers=as_["agg"],
        json={"delivered_on": "2027-07-20", "quantity": 100},
    )
    assert r.status_code == 201, r.json
    assert r.json["repaid"] == six["amount"]
    assert r.json["paid_to_member"] == 100 * 100_000 - six["amount"]
    loan = client.get(f"/api/v1/loans/{loan_id}?on=2027-07-20", headers=as_["agg"]).json
    assert (loan["days_past_due"], loan["collectability"]) == (0, 1)
    assert (
        client.get(f"/api/v1/loans/{loan_id}?on=2027-07-19", headers=as_["agg"]).json[
            "collectability"
        ]
        == 2
    )  # as it stood that day

    for k in range(7, len(expected) + 1):
        pay(k, _due(k))

    loan = client.get(f"/api/v1/loans/{loan_id}", headers=as_["agg"]).json
    interest = sum(i for _p, i in expected)
    assert loan["status"] == "closed"
    assert loan["disbursed"] == 50_000_000
    assert loan["principal_repaid"] == 50_000_000 and loan["outstanding"] == 0
    assert loan["interest_paid"] == interest
    assert loan["repaid"] == 50_000_000 + interest
    assert sum(p for p, _i in expected) + 10_000_000 == 50_000_000
