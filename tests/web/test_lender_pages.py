"""The lender's pages through Flask's test client: the applications put to its institution with
their decision history, the credit decision and the tranches (each asking once, a decline
with its reason), and the loans with their schedule, what is overdue and the collectability."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from factoryshare.access import Actor
from factoryshare.models import Role
from factoryshare.models.financing import LoanStatus
from factoryshare.services import loans
from tests.web.helpers import csrf, sign_in

ADMIN = Actor(user_id=None, role=Role.admin)
ENDORSED_ON = dt.date(2027, 1, 15)


@pytest.fixture()
def setting(db, make_member, make_cluster, make_lender, make_user, make_clock):
    """An application of a cluster put to a bank and endorsed by its aggregator on 15 Jan
    2027, and the bank's credit officer signed in as an English user."""
    member = make_member(business_name="Garut Kulit Jaya")
    cluster = make_cluster(members=[member], chair_member_id=member.id, name="Klaster Kulit Garut")
    bank = make_lender(name="Bank Rakyat Uji")
    with make_clock.at(ENDORSED_ON):
        app = loans.create(
            db,
            ADMIN,
            cluster_id=cluster.id,
            requested_amount=12_000_000,
            tenor_months=12,
            lender_id=bank.id,
            on=ENDORSED_ON,
        )
        loans.submit(db, ADMIN, app.id)
        loans.approve(db, ADMIN, app.id)
    officer = make_user(Role.lender, lender=bank, language="en", name="Dewi Kredit")
    make_clock.set(ENDORSED_ON)
    return {"app": app, "bank": bank, "officer": officer, "cluster": cluster}


def _post(client, app_id: int, path: str, **form):  # type: ignore[no-untyped-def]
    token = csrf(client, f"/lender/applications/{app_id}")
    return client.post(f"/lender/applications/{app_id}/{path}", data={"csrf_token": token, **form})


def test_a_lender_sees_only_the_applications_put_to_its_institution(client, db, setting, make_user):
    app = setting["app"]
    sign_in(client, setting["officer"])
    listing = client.get("/lender/applications").get_data(as_text=True)
    assert f"#{app.id}" in listing and "endorsed: waiting for your decision" in listing
    assert "Rp12.000.000" in listing and "Klaster Kulit Garut" in listing

    token = csrf(client, "/lender/applications")
    client.post("/logout", data={"csrf_token": token})
    sign_in(client, make_user(Role.lender, language="en"))  # another bank's officer
    assert client.get(f"/lender/applications/{app.id}").status_code == 404
    assert f"#{app.id}<" not in client.get("/lender/applications").get_data(as_text=True)
    r = _post(client, app.id, "decision", decision="approve", reference="X/1")
    assert r.status_code == 404
    db.refresh(app)
    assert app.status is LoanStatus.approved

    client.post("/logout", data={"csrf_token": csrf(client, "/lender/applications")})
    sign_in(client, make_user(Role.aggregator, aggregator=setting["cluster"].aggregator))
    assert client.get("/lender/applications").status_code == 403
    assert client.get("/lender/loans").status_code == 403


def test_the_credit_decision_asks_once_and_a_decline_takes_a_reason(client, db, setting):
    app = setting["app"]
    sign_in(client, setting["officer"])
    page = client.get(f"/lender/applications/{app.id}").get_data(as_text=True)
    forms = re.findall(r"<form [^>]*>", page)
    approve = next(f for f in forms if "Approve the loan of application" in f)
    assert "Rp12.000.000" in approve and "cannot be taken back" in approve
    decline = next(f for f in forms if "Decline the loan of application" in f)
    assert 'data-confirm-reason="required"' in decline
    assert '<textarea id="decline-reason" name="reason"' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page) and "KUR KUR" not in page

    r = _post(client, app.id, "decision", decision="decline", reference="BRU/9", reason=" ")
    assert "Write the reason the loan is declined." in client.get(r.headers["Location"]).get_data(
        as_text=True
    )
    db.refresh(app)
    assert app.status is LoanStatus.approved

    r = _post(
        client,
        app.id,
        "decision",
        decision="decline",
        reference="BRU/9",
        reason="The cluster's turnover is too low.",
    )
    page = html.unescape(client.get(r.headers["Location"]).get_data(as_text=True))
    assert f"The loan of application #{app.id} is declined." in page
    db.refresh(app)
    assert app.status is LoanStatus.lender_declined
    history = page[page.index('aria-labelledby="history-heading"') :]
    assert "Dewi Kredit (lender)" in history and "declined by the lender" in history
    assert "The cluster's turnover is too low." in history and "reference BRU/9" in history


def test_a_lender_approves_with_its_terms_and_the_history_names_them(client, db, setting):
    app = setting["app"]
    sign_in(client, setting["officer"])
    r = _post(
        client,
        app.id,
        "decision",
        decision="approve",
        reference="BRU/2027/7",
        approved_amount="10.000.000",
        rate_percent="6,5",
        tenor_months="",
    )
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert f"The loan of application #{app.id} is approved for Rp10.000.000." in page
    db.refresh(app)
    assert app.status is LoanStatus.lender_approved
    assert (app.approved_amount, app.lender_rate_bps, app.lender_tenor_months) == (
        10_000_000,
        650,
        12,
    )
    history = page[page.index('aria-labelledby="history-heading"') :]
    assert "approved by the lender" in history and "6.5% a year" in history
    assert "reference BRU/2027/7" in history and "12 months" in history


def test_a_wrong_rate_is_refused_in_words_and_nothing_changes(client, db, setting):
    app = setting["app"]
    sign_in(client, setting["officer"])
    r = _post(
        client, app.id, "decision", decision="approve", reference="BRU/1", rate_percent="lots"
    )
    assert "yearly rate between 0 and 100 percent" in client.get(r.headers["Location"]).get_data(
        as_text=True
    )
    db.refresh(app)
    assert app.status is LoanStatus.approved


def test_a_lender_disburses_and_follows_the_schedule_overdue_and_collectability(
    client, db, setting, make_clock
):
    app = setting["app"]
    loans.lender_decision(db, Actor.of(setting["officer"]), app.id, True, reference="BRU/3")
    sign_in(client, setting["officer"])
    page = client.get(f"/lender/applications/{app.id}").get_data(as_text=True)
    assert re.search(
        r'<form [^>]*action="/lender/applications/\d+/tranche"[^>]*data-confirm="[^"]*'
        r"Rp12\.000\.000 of the approved Rp12\.000\.000 remain",
        page,
        re.S,
    )
    r = _post(client, app.id, "tranche", amount="12.000.000", on="2027-01-15")
    assert "Rp12.000.000 is paid out" in client.get(r.headers["Location"]).get_data(as_text=True)
    db.refresh(app)
    assert app.status is LoanStatus.repaying

    make_clock.set(dt.date(2027, 4, 1))  # 15 Feb is 45 days past due: Kol-2
    sign_in(client, setting["officer"])  # months later: the officer signs in again
    listing = client.get("/lender/loans").get_data(as_text=True)
    assert f'href="/lender/loans/{app.id}"' in listing
    assert '<td class="num" data-label="Days past due">45</td>' in listing
    assert "2 · special mention (dalam perhatian khusus)" in listing
    page = client.get(f"/lender/loans/{app.id}").get_data(as_text=True)
    assert page.count('<tr class="overdue">') == 2  # 15 Feb and 15 Mar
    assert "Rp12.000.000" in page and "tranche paid out" in page and "Non-performing" not in page


def test_a_tranche_beyond_the_approved_amount_is_refused_in_words(client, db, setting):
    app = setting["app"]
    loans.lender_decision(db, Actor.of(setting["officer"]), app.id, True, reference="BRU/4")
    sign_in(client, setting["officer"])
    r = _post(client, app.id, "tranche", amount="13.000.000", on="2027-01-15")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "remain to disburse" in page
    db.refresh(app)
    assert app.status is LoanStatus.lender_approved
