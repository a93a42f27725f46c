"""The promotion ledger: an append-only DynamoDB table per environment.

Each entry is written with a condition that its key does not exist yet, so entries are never
overwritten, and two writers racing for the same sequence number cannot both succeed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from mlplatform import naming
from mlplatform.promotion.aws import Aws, aws_errors, error_code
from mlplatform.promotion.errors import PromotionError

ACTIONS = ("register", "promote", "approve", "reject", "rollback")
DEPLOYING = ("promote", "rollback")  # actions that change what an environment runs


@dataclass
class Entry:
    action: str
    model: str
    version: str
    env: str  # the environment acted on
    by: str
    at: str
    reason: str = ""
    from_env: str | None = None
    previous_version: str | None = None
    gates: list[str] = field(default_factory=list)
    uri: str | None = None
    sha256: str | None = None
    image: str | None = None
    identity: str | None = None  # the AWS principal that wrote it
    seq: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Ledger:
    def __init__(self, aws: Aws) -> None:
        self.aws = aws

    @property
    def _table(self) -> str:
        return self.aws.ledger_table

    def entries(self, model: str) -> list[Entry]:
        """All entries of a model in this environment, oldest first."""
        ddb = self.aws.client("dynamodb")
        items: list[dict[str, Any]] = []
        with aws_errors(f"{self.aws.env.name}: reading ledger {self._table}"):
            pages = ddb.get_paginator("query").paginate(
                TableName=self._table,
                KeyConditionExpression="#pk = :pk",
                ExpressionAttributeNames={"#pk": naming.LEDGER_PARTITION_KEY},
                ExpressionAttributeValues={":pk": {"S": naming.ledger_partition(model)}},
                ConsistentRead=True,
            )
            for page in pages:
                items.extend(page.get("Items", []))
        return [_entry(item) for item in items]

    def deployed(self, model: str) -> Entry | None:
        """The latest promote or rollback entry: what the environment should be running."""
        return next((e for e in reversed(self.entries(model)) if e.action in DEPLOYING), None)

    def append(self, entry: Entry) -> Entry:
        """Write `entry` after the last one; raises if a concurrent writer took the slot."""
        if entry.action not in ACTIONS:
            raise ValueError(entry.action)
        existing = self.entries(entry.model)
        entry.seq = (existing[-1].seq if existing else 0) + 1
        item = {
            naming.LEDGER_PARTITION_KEY: {"S": naming.ledger_partition(entry.model)},
            naming.LEDGER_SORT_KEY: {"S": naming.ledger_sort(entry.seq)},
            "entry": {"S": json.dumps(entry.to_json(), sort_keys=True)},
            "action": {"S": entry.action},
            "version": {"S": entry.version},
            "at": {"S": entry.at},
        }
        ddb = self.aws.client("dynamodb")
        with aws_errors(f"{self.aws.env.name}: writing ledger {self._table}"):
            try:
                ddb.put_item(
                    TableName=self._table,
                    Item=item,
                    ConditionExpression="attribute_not_exists(#sk)",
                    ExpressionAttributeNames={"#sk": naming.LEDGER_SORT_KEY},
                )
            except ddb.exceptions.ClientError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    raise PromotionError(
                        f"{self.aws.env.name}: ledger entry {entry.seq} of {entry.model} was written concurrently "
                        "by another process; nothing was recorded, run the command again"
                    ) from None
                raise
        return entry


def _entry(item: dict[str, Any]) -> Entry:
    data = json.loads(item["entry"]["S"])
    return Entry(**{k: v for k, v in data.items() if k in Entry.__dataclass_fields__})
