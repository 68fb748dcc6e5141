"""All mapped classes, one module per aggregate; importing this registers them all."""

from factoryshare.models.accounts import ApiToken, Role, User, house_managers
from factoryshare.models.audit import AuditEvent
from factoryshare.models.houses import (
    WEEKDAYS,
    Capability,
    Downtime,
    DowntimeKind,
    HouseClosure,
    Machine,
    MachineStatus,
    ProductionHouse,
    machine_capabilities,
)
from factoryshare.models.members import (
    Aggregator,
    Cluster,
    Member,
    Product,
    ProductKind,
    RoutingStep,
    Sector,
    cluster_members,
)

__all__ = [
    "WEEKDAYS",
    "Aggregator",
    "ApiToken",
    "AuditEvent",
    "Capability",
    "Cluster",
    "Downtime",
    "DowntimeKind",
    "HouseClosure",
    "Machine",
    "MachineStatus",
    "Member",
    "Product",
    "ProductKind",
    "ProductionHouse",
    "Role",
    "RoutingStep",
    "Sector",
    "User",
    "cluster_members",
    "house_managers",
    "machine_capabilities",
]

# Areas added by later features, each in its own module, imported by name: every table is on
# the one metadata that Alembic compares against, and a module renamed or missing fails at
# import instead of silently dropping its tables.
from factoryshare.models import (  # noqa: F401
    booking_extras,
    bookings,
    financing,
    jobs,
    notifications,
    permits,
    scheduling,
)
