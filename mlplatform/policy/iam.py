"""IAM policies: no wildcard actions, and never everything on everything."""

from __future__ import annotations

from typing import Any

from mlplatform.plan.model import PlannedResource
from mlplatform.policy.rules import Context, as_list, display_name, policy_document, rule, statements

POLICY = "aws:iam/policy:Policy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
ROLE = "aws:iam/role:Role"
TYPES = (POLICY, ROLE_POLICY, USER_POLICY, GROUP_POLICY, ROLE)


def _documents(resource: PlannedResource) -> list[tuple[str, dict[str, Any]]]:
    """(label, document) for each permission policy; a role's trust policy is not one."""
    if resource.type == ROLE:
        found = []
        for inline in as_list(resource.inputs.get("inlinePolicies")):
            if isinstance(inline, dict):
                document = policy_document(inline.get("policy"))
                if document is not None:
                    found.append((f"inline policy '{inline.get('name') or '?'}'", document))
        return found
    document = policy_document(resource.inputs.get("policy"))
    return [("policy", document)] if document is not None else []


def _allows(resource: PlannedResource, *, any_resource: bool) -> list[str]:
    labels = []
    for label, document in _documents(resource):
        for statement in statements(document):
            if statement.get("Effect") != "Allow" or "*" not in as_list(statement.get("Action")):
                continue
            if any_resource and "*" not in as_list(statement.get("Resource")):
                continue
            labels.append(label)
            break
    return labels


@rule("MLP-IAM-001", "error", TYPES, "No statement allows every action ('*')", checkov="CKV_AWS_63")
def no_wildcard_actions(resource: PlannedResource, ctx: Context) -> list[str]:
    return [
        f"{label} of '{display_name(resource)}' allows every action ('*'): list the actions it needs"
        for label in _allows(resource, any_resource=False)
    ]


@rule("MLP-IAM-002", "error", TYPES, "No statement allows '*' on '*' (administrator)", checkov="CKV_AWS_62")
def no_admin(resource: PlannedResource, ctx: Context) -> list[str]:
    return [
        f"{label} of '{display_name(resource)}' allows '*' on '*' (full administrator): scope actions and resources"
        for label in _allows(resource, any_resource=True)
    ]
