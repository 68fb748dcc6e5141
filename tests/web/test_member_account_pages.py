"""A member's own records in the browser: statement, permits, loan share, calendar address."""

from __future__ import annotations

import datetime as dt
import re

from factoryshare.models import Role
from factoryshare.models.bookings import BookingStatus
from factoryshare.models.financing import LoanShare
from tests.factories.bookings import at, working_day
from tests.web.helpers import csrf, sign_in


def _member(make_user, make_member, make_house, **house):  # type: ignore[no-untyped-def]
    home = make_house(**house)
    member = make_member(house_id=home.id)
    return make_user(Role.member, member=member), member, home


def test_the_statement_page_shows_the_months_bookings_charged_in_rupiah_and_a_csv_link(
    client, make_user, make_member, make_house, make_machine, make_booking
):
    user, member, home = _member(make_user, make_member, make_house)
    machine = make_machine(house=home, name="Mesin Obras")
    day = working_day()
    make_booking(
        machine=machine,
        member=member,
        start_at=at(day, "09:00"),
        end_at=at(day, "11:00"),
        status=BookingStatus.confirmed,
        price=1_500_000,
    )
    sign_in(client, user)
    page = client.get(f"/statement?month={day:%Y-%m}").get_data(as_text=True)
    assert "Mesin Obras" in page and "Rp1.500.000" in page
    link = re.search(r'href="([^"]+\.csv[^"]*)"', page)
    assert link, "no CSV link"
    r = client.get(link.group(1).replace("&amp;", "&"))
    assert r.status_code == 200 and "Mesin Obras" in r.get_data(as_text=True)


def test_a_bad_month_on_the_statement_page_is_explained_not_a_crash(
    client, make_user, make_member, make_house
):
    user, _member_, _home = _member(make_user, make_member, make_house)
    sign_in(client, user)
    r = client.get("/statement?month=2026-99", follow_redirects=True)
    assert r.status_code == 200
    assert "YYYY-MM" in r.get_data(as_text=True)


def test_my_permits_show_their_state_and_expiry(
    clock, client, make_user, make_member, make_house, make_food_product, make_permit
):
    user, member, _home = _member(make_user, make_member, make_house)
    product = make_food_product(member=member)
    make_permit(product, code="pirt", expires_on=clock.today() + dt.timedelta(days=20))
    sign_in(client, user)
    page = client.get("/permits").get_data(as_text=True)
    assert "P-IRT" in page
    assert "segera berakhir" in page  # "expiring soon" in Indonesian, the default language
    assert "20 hari lagi" in page


def test_my_loans_show_my_share_and_my_part_of_each_installment(
    client, make_user, make_member, make_house, make_cluster, make_loan, db
):
    user, member, _home = _member(make_user, make_member, make_house)
    cluster = make_cluster(members=[member])
    # Paid out in full: installments are owed only on money disbursed.
    loan = make_loan(cluster, amount=50_000_000, tenor_months=12, first_tranche=50_000_000)
    db.add(LoanShare(loan_application_id=loan.id, member_id=member.id, amount=10_000_000))
    db.flush()
    sign_in(client, user)
    page = client.get("/loans").get_data(as_text=True)
    assert cluster.name in page
    assert "Rp50.000.000" in page and "Rp10.000.000" in page
    assert page.count("<tr>") >= 13  # header + 12 installments


def test_the_calendar_address_is_shown_once_works_and_can_be_stopped(
    client, make_user, make_member, make_house
):
    user, _member_, _home = _member(make_user, make_member, make_house)
    sign_in(client, user)
    token = csrf(client, "/calendar")
    page = client.post("/calendar", data={"csrf_token": token, "action": "issue"}).get_data(
        as_text=True
    )
    address = re.search(r'value="(http[^"]+\.ics)"', page)
    assert address, "the address is not shown"
    path = "/" + address.group(1).split("://", 1)[1].split("/", 1)[1]
    assert client.get(path).status_code == 200
    assert address.group(1) not in client.get("/calendar").get_data(as_text=True)
    client.post("/calendar", data={"csrf_token": csrf(client, "/calendar"), "action": "revoke"})
    assert client.get(path).status_code == 404


def test_a_manager_cannot_open_a_members_account_pages(client, make_user, make_house):
    manager = make_user(Role.manager, houses=[make_house()])
    sign_in(client, manager)
    for url in ("/statement", "/permits", "/loans", "/calendar"):
        assert client.get(url).status_code == 403, url
