"""An aggregator's offtake agreements (the buyer's promise to take a cluster's product on
dates) and the purchases recorded against them, each of which repays the cluster's loan
installments before the rest goes to the member."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from api.database import db
from api.web import actor, bp, page, rupiah
from api.web.aggregator.common import (
    MAX_NOTE,
    ROLES,
    parse_amount,
    parse_count,
    parse_day,
    words_context,
    zone_of,
)
from factoryshare import i18n
from factoryshare.errors import ValidationFailed
from factoryshare.models import ProductionHouse
from factoryshare.services import clusters, offtake

# Delivery rows on the new-agreement form (the service takes up to offtake.MAX_DELIVERIES).
DELIVERY_ROWS = 6


def _agreement_form_values() -> dict[str, Any]:
    form = request.form
    return {
        "cluster_id": form.get("cluster_id", ""),
        "product_id": form.get("product_id", ""),
        "quantity": form.get("quantity", ""),
        "unit_price": form.get("unit_price", ""),
        "notes": form.get("notes", ""),
        "due_on": form.getlist("due_on"),
        "delivery_quantity": form.getlist("delivery_quantity"),
    }


def _offtake_page(
    values: dict[str, Any] | None = None, errors: dict[str, str] | None = None, status: int = 200
):  # type: ignore[no-untyped-def]
    me = actor()
    mine = list(db().scalars(clusters.list_clusters(db(), me)))
    choices = [(c, offtake.products_for_agreement(db(), me, c.id)) for c in mine]
    agreements = list(db().scalars(offtake.list_agreements(db(), me)))
    progress = {a.id: offtake.agreement_progress(db(), me, a.id) for a in agreements}
    return render_template(
        "aggregator/offtake.html",
        agreements=agreements,
        progress=progress,
        choices=choices,
        has_products=any(items for _c, items in choices),
        values=values or {},
        errors=errors or {},
        rows=DELIVERY_ROWS,
    ), status


def _field_errors(err: ValidationFailed) -> dict[str, str]:
    """The service's errors by form field, in the page's language (deliveries[i] → deliveries)."""
    lang = str(get_locale())
    found: dict[str, str] = {}
    for key, messages in (err.errors or {}).items():
        name = key.split("[")[0]
        text = " ".join(
            str(m)
            for m in i18n.translate(messages if isinstance(messages, list) else [messages], lang)
        )
        found[name] = f"{found[name]} {text}".strip() if name in found else text
    return found


@bp.route("/aggregator/offtake")
@page(*ROLES)
def aggregator_offtake():  # type: ignore[no-untyped-def]
    return _offtake_page()


@bp.route("/aggregator/offtake", methods=["POST"])
@page(*ROLES)
def aggregator_offtake_create():  # type: ignore[no-untyped-def]
    values = _agreement_form_values()
    deliveries: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    for n, (day_text, qty_text) in enumerate(zip(values["due_on"], values["delivery_quantity"])):
        if not day_text.strip() and not qty_text.strip():
            continue  # an empty row
        due_on, qty = parse_day(day_text), parse_count(qty_text)
        if due_on is None or qty is None:
            errors["deliveries"] = _(
                "Delivery %(n)s needs both a date and a whole quantity.", n=n + 1
            )
            continue
        deliveries.append({"due_on": due_on, "quantity": qty})
    cluster_id = parse_count(values["cluster_id"])
    if cluster_id is None:
        errors["cluster_id"] = _("Choose the cluster.")
    if errors:
        return _offtake_page(values, errors, 422)
    data = {
        "cluster_id": cluster_id,
        "product_id": parse_count(values["product_id"]),
        "quantity": parse_count(values["quantity"]),
        "unit_price": parse_amount(values["unit_price"]),
        "deliveries": deliveries,
        "notes": values["notes"].strip()[:MAX_NOTE],
    }
    try:
        agreement = offtake.create_agreement(db(), actor(), data)
    except ValidationFailed as err:
        db().rollback()
        return _offtake_page(values, _field_errors(err), 422)
    flash(_("Offtake agreement #%(id)s is recorded.", id=agreement.id), "ok")
    return redirect(url_for("web.aggregator_agreement", agreement_id=agreement.id))


def _agreement_page(
    agreement_id: int,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
):  # type: ignore[no-untyped-def]
    me = actor()
    agreement = offtake.get_agreement(db(), me, agreement_id)
    cluster = agreement.cluster
    house = db().get(ProductionHouse, cluster.house_id) if cluster.house_id else None
    member = next((m for m in cluster.members if m.id == agreement.product.member_id), None)
    return render_template(
        "aggregator/agreement.html",
        agreement=agreement,
        member=member,
        purchases=list(db().scalars(offtake.list_purchases(db(), me, agreement_id))),
        progress=offtake.agreement_progress(db(), me, agreement_id),
        loan=offtake.repayable_loan(db(), agreement.cluster_id),
        payout=offtake.member_payout,
        zone=zone_of(house),
        values=values or {},
        errors=errors or {},
        **words_context(),
    ), status


@bp.route("/aggregator/offtake/<int:agreement_id>")
@page(*ROLES)
def aggregator_agreement(agreement_id: int):  # type: ignore[no-untyped-def]
    return _agreement_page(agreement_id)


@bp.route("/aggregator/offtake/<int:agreement_id>/purchases", methods=["POST"])
@page(*ROLES)
def aggregator_purchase(agreement_id: int):  # type: ignore[no-untyped-def]
    form = request.form
    values = {k: form.get(k, "") for k in ("delivered_on", "quantity", "amount")}
    data = {
        "delivered_on": parse_day(values["delivered_on"]),
        "quantity": parse_count(values["quantity"]),
        "amount": parse_amount(values["amount"]),
    }
    try:
        purchase = offtake.record_purchase(db(), actor(), agreement_id, data)
    except ValidationFailed as err:
        db().rollback()
        return _agreement_page(agreement_id, values, _field_errors(err), 422)
    if purchase.repaid:
        flash(
            _(
                "The purchase is recorded: %(repaid)s of it repays the loan's installments "
                "and %(member)s goes to the member.",
                repaid=rupiah(purchase.repaid),
                member=rupiah(offtake.member_payout(purchase)),
            ),
            "ok",
        )
    else:
        flash(
            _(
                "The purchase is recorded: all %(amount)s goes to the member.",
                amount=rupiah(purchase.amount),
            ),
            "ok",
        )
    return redirect(url_for("web.aggregator_agreement", agreement_id=agreement_id))
