"""How a plan is shown, shared by the plan tree, graph, diff and cost: one spelling of resource
types (Pulumi's own), one order of components and resources, and the component each resource
belongs to. Imports no pulumi."""

from __future__ import annotations

from mlplatform.plan.model import Plan, PlannedResource

# Components in the order the platform is built: shared foundations first, then what uses them.
KIND_ORDER = ("PlatformCore", "Network", "FeatureStore", "TrainingCluster", "ModelEndpoint", "MonitoringStack")
SHARED = "shared"  # resources of the platform outside every component (a namespace, a provider)


def display_type(type_: str) -> str:
    """A type token as the Pulumi CLI displays it (tokens.Type.DisplayName in pulumi/pulumi): the
    module's last path segment is dropped when it is the type name in camelCase, so
    aws:s3/bucket:Bucket is aws:s3:Bucket, while kubernetes:apps/v1:Deployment stays as it is."""
    parts = type_.split(":")
    if len(parts) != 3 or not parts[2]:
        return type_
    package, module, name = parts
    folder, slash, file = module.rpartition("/")
    if not slash or file != name[0].lower() + name[1:]:
        return type_
    return f"{package}:{folder}:{name}"


def kind_of(component: PlannedResource) -> str:
    """mlplatform:aws:ModelEndpoint -> ModelEndpoint."""
    return component.type.rsplit(":", 1)[-1]


def target_of(component: PlannedResource) -> str:
    """mlplatform:aws:ModelEndpoint -> aws; mlplatform:k8s:... -> kubernetes."""
    parts = component.type.split(":")
    target = parts[1] if len(parts) == 3 else ""
    return "kubernetes" if target == "k8s" else target


def sort_key(r: PlannedResource) -> tuple[int, int, str, str]:
    """Components by kind order then name, before resources by name: stable across runs (the
    engine registers concurrently, so arrival order varies)."""
    if r.is_component:
        kind = kind_of(r)
        rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
        return (0, rank, kind, r.name)
    return (1, 0, "", r.name)


def children(plan: Plan) -> dict[str | None, list[PlannedResource]]:
    """Resources by parent (None for the top level), each list in `sort_key` order."""
    urns = {r.urn for r in plan.resources}
    out: dict[str | None, list[PlannedResource]] = {}
    for r in plan.resources:
        out.setdefault(r.parent if r.parent in urns else None, []).append(r)
    for items in out.values():
        items.sort(key=sort_key)
    return out


class TopLevel:
    """The top-level component a resource belongs to (its outermost component ancestor), or
    SHARED for resources outside every component."""

    def __init__(self, plan: Plan) -> None:
        self.by_urn = plan.by_urn()
        self.cache: dict[str, str] = {}

    def __call__(self, urn: str) -> str | None:
        """The top-level component's URN, SHARED, or None for a URN outside the plan."""
        if urn in self.cache:
            return self.cache[urn]
        r = self.by_urn.get(urn)
        if r is None:
            return None
        seen = {urn}
        top = r
        while top.parent in self.by_urn and top.parent not in seen:
            seen.add(top.parent)
            top = self.by_urn[top.parent]
        found = top.urn if top.is_component else SHARED
        self.cache[urn] = found
        return found


def provider_urn(reference: str | None) -> str | None:
    """The provider's URN in a provider reference ("<urn>::<id>")."""
    return reference.rsplit("::", 1)[0] if reference else None
