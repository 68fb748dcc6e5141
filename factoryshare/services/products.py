"""A member's products and their routings (the ordered operations the scheduler plans).

A member manages its own products; the managers of its house (and admins) may too.
Aggregators read their clusters' members' products. Replacing a routing replaces every
step in the one transaction of the use case.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from factoryshare import audit
from factoryshare.access import Actor, get_scoped, scoped
from factoryshare.errors import Conflict, Forbidden, ValidationFailed
from factoryshare.events import publish
from factoryshare.i18n import N_
from factoryshare.models import Capability, Member, Product, ProductKind, Role, RoutingStep, Sector

MAX_MINUTES = 7 * 24 * 60
MAX_LOT = 1_000_000


def _routing_steps(session: Session, steps: Any) -> list[RoutingStep]:
    """Validate routing steps (dicts) and build them; every problem named `routing[i].field`."""
    if not isinstance(steps, list) or not steps:
        raise ValidationFailed(
            N_("A product needs at least one routing step."),
            errors={"routing": [N_("Give at least one step.")]},
        )
    codes = {s.get("capability") for s in steps if isinstance(s, dict)}
    known = {
        c.code: c.id
        for c in session.scalars(
            select(Capability).where(Capability.code.in_([c for c in codes if isinstance(c, str)]))
        )
    }
    errors: dict[str, list[str]] = {}
    built: list[RoutingStep] = []
    for i, step in enumerate(steps):
        where = f"routing[{i}]"
        if not isinstance(step, dict):
            errors[where] = [N_("Each step is an object with a capability and minutes.")]
            continue
        code = step.get("capability")
        if code not in known:
            errors[f"{where}.capability"] = [
                N_("No machine capability is called %(code)s.", code=repr(code))
            ]
        minutes = step.get("minutes_per_unit")
        if not isinstance(minutes, int) or not 0 < minutes <= MAX_MINUTES:
            errors[f"{where}.minutes_per_unit"] = [N_("Give a whole number of minutes above 0.")]
        for field in ("setup_minutes", "min_lag_minutes"):
            value = step.get(field, 0)
            if not isinstance(value, int) or not 0 <= value <= MAX_MINUTES:
                errors[f"{where}.{field}"] = [N_("Give a whole number of minutes, 0 or more.")]
        max_lot = step.get("max_lot")
        if max_lot is not None and (
            not isinstance(max_lot, int) or isinstance(max_lot, bool) or not 1 <= max_lot <= MAX_LOT
        ):
            errors[f"{where}.max_lot"] = [
                N_("Must be a whole number between 1 and %(upper)s.", upper=MAX_LOT)
            ]
        if not errors:
            built.append(
                RoutingStep(
                    position=i + 1,
                    capability_id=known[str(code)],
                    setup_minutes=step.get("setup_minutes", 0),
                    minutes_per_unit=minutes,
                    min_lag_minutes=step.get("min_lag_minutes", 0),
                    max_lot=max_lot,
                )
            )
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    return built


def _owner(session: Session, actor: Actor, member_id: int | None) -> Member:
    actor.require(Role.admin, Role.manager, Role.member)
    if actor.role is Role.member:
        member_id = actor.member_id if member_id is None else member_id
    if member_id is None:
        raise ValidationFailed(
            N_("Say which member the product belongs to."), errors={"member_id": [N_("Required.")]}
        )
    member = get_scoped(session, actor, Member, member_id)
    if not (actor.member_id == member.id and actor.role is Role.member) and not actor.manages(
        member.house_id
    ):
        raise Forbidden(N_("Your role may not change this member's products."))
    return member


def _check_name_free(
    session: Session, member_id: int, name: str, product_id: int | None = None
) -> None:
    stmt = select(Product.id).where(Product.member_id == member_id, Product.name == name)
    if product_id is not None:
        stmt = stmt.where(Product.id != product_id)
    if session.scalar(stmt) is not None:
        raise Conflict(
            N_("This member already has a product with this name."),
            code="duplicate_product",
            errors={"name": [N_("This member already has a product with this name.")]},
        )


def snapshot(product: Product) -> dict[str, Any]:
    """The product as its audit records it, with its routing (what the halal review compares)."""
    return audit.snapshot(
        product,
        extra={
            "routing": [
                {
                    "position": s.position,
                    "capability_id": s.capability_id,
                    "setup_minutes": s.setup_minutes,
                    "minutes_per_unit": s.minutes_per_unit,
                    "min_lag_minutes": s.min_lag_minutes,
                }
                for s in product.routing
            ],
            # Apart from the routing: a lot size does not change how the product is made (halal).
            "max_lots": [s.max_lot for s in product.routing],
        },
    )


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    values = {
        k: v
        for k, v in data.items()
        if k in ("name", "sector", "kind", "unit", "family", "description")
    }
    for field, enum in (("sector", Sector), ("kind", ProductKind)):
        if field in values:
            try:
                values[field] = enum(values[field])
            except ValueError:
                message = N_("Choose one of: %(value)s.", value=", ".join(e.value for e in enum))
                raise ValidationFailed(message, errors={field: [message]}) from None
    if "name" in values:
        values["name"] = values["name"].strip()
        if not values["name"]:
            raise ValidationFailed(
                N_("A product needs a name."), errors={"name": [N_("May not be blank.")]}
            )
    return values


def create_product(session: Session, actor: Actor, data: dict[str, Any]) -> Product:
    member = _owner(session, actor, data.get("member_id"))
    values = _fields(data)
    steps = _routing_steps(session, data.get("routing"))
    _check_name_free(session, member.id, values["name"])
    product = Product(member_id=member.id, **values)
    product.routing = steps
    session.add(product)
    session.flush()
    audit.record(session, actor, "product.created", product, after=snapshot(product))
    return product


def list_products(
    session: Session, actor: Actor, *, member_id: int | None = None, sector: str | None = None
) -> Select[tuple[Product]]:
    stmt = scoped(actor, Product)
    if member_id is not None:
        stmt = stmt.where(Product.member_id == member_id)
    if sector is not None:
        stmt = stmt.where(Product.sector == Sector(sector))
    # Each product shows its routing by capability code: read with the list.
    return stmt.order_by(Product.name, Product.id).options(
        selectinload(Product.routing).selectinload(RoutingStep.capability)
    )


def get_product(session: Session, actor: Actor, product_id: int) -> Product:
    return get_scoped(session, actor, Product, product_id)


def update_product(
    session: Session, actor: Actor, product_id: int, data: dict[str, Any]
) -> Product:
    product = get_scoped(session, actor, Product, product_id)
    _owner(session, actor, product.member_id)
    values = _fields(data)
    steps = _routing_steps(session, data["routing"]) if "routing" in data else None
    if "name" in values:
        _check_name_free(session, product.member_id, values["name"], product.id)
    before = snapshot(product)
    for key, value in values.items():
        setattr(product, key, value)
    if steps is not None:
        product.routing = []
        session.flush()  # old steps go first, so positions can be reused
        product.routing = steps
    session.flush()
    audit.record(session, actor, "product.updated", product, before=before, after=snapshot(product))
    publish(session, "product_changed", product=product, before=before, actor=actor)
    return product


def replace_routing(
    session: Session, actor: Actor, product_id: int, steps: list[dict[str, Any]]
) -> Product:
    return update_product(session, actor, product_id, {"routing": steps})


def delete_product(session: Session, actor: Actor, product_id: int) -> None:
    product = get_scoped(session, actor, Product, product_id)
    _owner(session, actor, product.member_id)
    before = snapshot(product)
    try:
        with session.begin_nested():
            session.delete(product)
            session.flush()
    except IntegrityError:
        raise Conflict(
            N_("This product is still used (bookings, orders or permits); it stays."),
            code="product_in_use",
        ) from None
    audit.record(
        session,
        actor,
        "product.deleted",
        object_type="products",
        object_id=product_id,
        before=before,
    )
