"""What each cluster owes, over the API: the same figures the aggregator's clusters page shows
(loans.cluster_exposures), for the aggregator's own clusters only."""

from __future__ import annotations

import datetime as dt

from factoryshare.access import Actor
from factoryshare.models import Role
from factoryshare.services import loans

ADMIN = Actor(user_id=None, role=Role.admin)
URL = "/api/v1/clusters/exposure"


def test_an_aggregator_reads_what_its_clusters_owe_and_nothing_of_another_aggregators(
    client,
    db,
    token_for,
    make_user,
    make_aggregator,
    make_cluster,
    make_member,
    make_loan,
    make_clock,
):
    mine, theirs = make_aggregator(), make_aggregator()
    cluster = make_cluster(aggregator=mine, members=[make_member()], name="Klaster Tas Garut")
    quiet = make_cluster(aggregator=mine, members=[make_member()], name="Klaster Batik Pekalongan")
    make_cluster(aggregator=theirs, members=[make_member()], name="Klaster Kopi Gayo")
    loan = make_loan(
        cluster,
        amount=12_000_000,
        tenor_months=12,
        on=dt.date(2026, 1, 15),
        first_tranche=12_000_000,
    )
    loans.mark_installments_due(db, dt.date(2026, 4, 1))  # 15 Feb and 15 Mar are past due
    make_clock.set(dt.date(2026, 4, 1))
    first, second = loans.installments(db, ADMIN, loan.id)[:2]
    loans.record_repayment(db, ADMIN, loan.id, 1, first.amount)
    db.flush()

    r = client.get(URL, headers=token_for(make_user(Role.aggregator, aggregator=mine)))
    assert r.status_code == 200, r.json
    by_name = {item["name"]: item for item in r.json["items"]}
    assert set(by_name) == {"Klaster Tas Garut", "Klaster Batik Pekalongan"}
    owing = by_name["Klaster Tas Garut"]
    assert owing["cluster_id"] == cluster.id and owing["loan_ids"] == [loan.id]
    assert owing["exposure"] == 12_000_000 - first.principal
    assert owing["overdue_amount"] == second.amount
    assert owing["overdue"] == [
        {
            "loan_id": loan.id,
            "installment": 2,
            "due_date": "2026-03-15",
            "days_past_due": 17,
            "owed": second.amount,
        }
    ]
    assert by_name["Klaster Batik Pekalongan"]["cluster_id"] == quiet.id
    assert (
        by_name["Klaster Batik Pekalongan"]["exposure"],
        by_name["Klaster Batik Pekalongan"]["overdue"],
    ) == (0, [])


def test_a_member_or_a_lender_may_not_read_the_clusters_exposure(
    client, token_for, make_user, make_member
):
    for user in (make_user(Role.member, member=make_member()), make_user(Role.lender)):
        assert client.get(URL, headers=token_for(user)).status_code == 403
