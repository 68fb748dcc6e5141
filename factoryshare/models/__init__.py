"""All mapped classes, one module per aggregate; importing this registers them all."""

import importlib
import importlib.util

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

# Areas added by later features, each in its own module. Importing them here puts every
# table on the one metadata that Alembic compares against; a module not in this build yet is
# skipped, an import error inside one that is present still fails loudly.
AREA_MODULES = [
    "bookings",
    "notifications",
    "booking_extras",
    "scheduling",
    "financing",
    "jobs",
    "permits",
]

for _name in AREA_MODULES:
    if importlib.util.find_spec(f"factoryshare.models.{_name}") is not None:
        importlib.import_module(f"factoryshare.models.{_name}")
