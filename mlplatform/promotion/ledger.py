"""The promotion ledger: per environment, a DynamoDB table for queries and a write-once copy in
S3 (Object Lock) that makes it tamper-evident.

Each model has two chains of entries: `promotion` (register, promote, rollback; written by the
promoter role) and `approval` (approve, reject; written only by the approver role). Entry N of
a chain carries the SHA-256 of entry N-1 (`prev`) and of itself (`hash`), and sort key
`ledger_sort(N)`: a chain is 1, 2, 3, ... with no gaps.

An append writes the write-once copy first (`If-None-Match: *` on ledger/<model>/<chain>/<N>.json,
which also decides a race between two writers), then the table item (`attribute_not_exists`).
Reading verifies the chain and compares every table item with its write-once copy, which
nobody can overwrite or delete while it is retained. So:
- an item rewritten in the table (who, why, version) differs from its copy: detected, and the
  copy is what `history` shows;
- an item added to the table by hand has no copy: detected;
- an item at a sort key that is not the next one (a "planted" high key) is not part of the chain:
  reported, and ignored by writers, so it blocks nothing;
- a write interrupted between the copy and the table item leaves the copy alone: the next
  append completes it.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from mlplatform import naming
from mlplatform.promotion.aws import Aws, aws_errors, error_code
from mlplatform.promotion.errors import PromotionError

ACTIONS = ("register", "promote", "approve", "reject", "rollback")
DEPLOYING = ("promote", "rollback")  # actions that change what an environment runs
APPROVALS = ("approve", "reject")
CHAINS = ("promotion", "approval")
GUIDE = "docs/security.md, 'When the ledger does not verify'"


class LedgerAltered(PromotionError):
    """The ledger of a model in an environment does not verify: it was changed outside mlplatform."""


@dataclass
class Entry:
    action: str
    model: str
    version: str
    env: str  # the environment acted on
    by: str  # the person AWS authenticated (identity.Identity.person)
    at: str
    reason: str = ""
    from_env: str | None = None
    previous_version: str | None = None
    gates: list[str] = field(default_factory=list)
    uri: str | None = None
    sha256: str | None = None
    image: str | None = None
    identity: str | None = None  # the AWS principal (STS ARN) that wrote it
    approval: dict[str, Any] | None = None  # for a promotion that needed one: which approval
    lineage: dict[str, Any] | None = None  # where the version came from (register --from-mlflow)
    seq: int = 0
    prev: str | None = None  # hash of the entry before it in its chain
    hash: str = ""

    @property
    def chain(self) -> str:
        return "approval" if self.action in APPROVALS else "promotion"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def canonical(self) -> str:
        """The bytes the hash covers: every field but the hash, sorted, compact."""
        data = {k: v for k, v in asdict(self).items() if k != "hash"}
        if data.get("lineage") is None:  # entries written before lineage existed hash as they did
            data.pop("lineage", None)
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    def computed_hash(self) -> str:
        return hashlib.sha256(self.canonical().encode()).hexdigest()

    def stored(self) -> str:
        """The text stored in the table and the write-once copy."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def parse(cls, text: str, where: str) -> Entry:
        try:
            data = json.loads(text)
            known = {f.name for f in fields(cls)}
            return cls(**{k: v for k, v in data.items() if k in known})
        except (ValueError, TypeError) as exc:
            raise LedgerAltered(f"{where}: not a ledger entry: {exc}") from None


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Chain:
    """One chain of one model in one environment, as verified."""

    env: str
    model: str
    name: str
    entries: list[Entry] = field(default_factory=list)  # verified, as the write-once copies hold them
    altered: list[str] = field(default_factory=list)  # tampering that stops writers
    ignored: list[str] = field(default_factory=list)  # table items outside the chain
    pending: Entry | None = None  # copied write-once but not yet in the table

    @property
    def problems(self) -> list[str]:
        return [*self.altered, *self.ignored]

    def raise_if_altered(self, doing: str) -> None:
        if self.altered:
            lines = "\n".join(f"  - {a}" for a in self.altered)
            raise LedgerAltered(
                f"{self.env}: the {self.name} ledger of {self.model} was changed outside mlplatform:\n{lines}\n"
                f"{doing} is refused until it is investigated and restored from the write-once copy ({GUIDE})"
            )


class Ledger:
    def __init__(self, aws: Aws) -> None:
        self.aws = aws

    @property
    def _table(self) -> str:
        return self.aws.ledger_table

    @property
    def _archive(self) -> str:
        return self.aws.ledger_archive_bucket

    def _partition(self, model: str, chain: str) -> str:
        return naming.ledger_approval_partition(model) if chain == "approval" else naming.ledger_partition(model)

    # --- reading ---------------------------------------------------------------------------
    def chain(self, model: str, name: str = "promotion") -> Chain:
        env = self.aws.env.name
        found = Chain(env, model, name)
        table = self._items(model, name)
        versions = self._archived_versions(model, name)
        previous: Entry | None = None
        seq = 1
        while True:
            sk = naming.ledger_sort(seq)
            key = naming.ledger_archive_key(model, name, seq)
            item = table.pop(sk, None)
            copies = versions.pop(key, None)
            if item is None and copies is None:
                break
            where = f"entry {seq}"
            if copies is None:
                found.altered.append(
                    f"{where} is in table {self._table} but has no write-once copy s3://{self._archive}/{key}: "
                    f"it was not written by mlplatform ({_summary(item)})"
                )
                break
            if len(copies) != 1 or copies[0]["deleted"]:
                found.altered.append(
                    f"{where}: its write-once copy s3://{self._archive}/{key} has {len(copies)} versions or a "
                    "delete marker: something tried to overwrite or delete it"
                )
            archived = self._read_copy(key, copies[0]["version"])
            problem = _chain_problem(archived, seq, previous)
            if problem:
                found.altered.append(f"{where} (s3://{self._archive}/{key}): {problem}")
                break
            if item is None:
                if naming.ledger_archive_key(model, name, seq + 1) not in versions:
                    found.pending = archived  # an append interrupted between its two writes
                    found.entries.append(archived)
                    break
                found.altered.append(f"{where} is missing from table {self._table}: it was deleted")
                found.entries.append(archived)
                previous, seq = archived, seq + 1
                continue
            if item != archived.stored():
                found.altered.append(
                    f"{where} in table {self._table} differs from its write-once copy s3://{self._archive}/{key}: "
                    f"{_difference(archived, item)}"
                )
            found.entries.append(archived)
            previous, seq = archived, seq + 1
        for sk, item in sorted(table.items()):
            found.ignored.append(
                f"item with sort key {sk} in table {self._table} is not entry {seq} (the next one) of the chain: "
                f"ignored, it was not written by mlplatform ({_summary(item)})"
            )
        for key in sorted(versions):
            found.altered.append(f"write-once copy s3://{self._archive}/{key} is not in the chain of the table")
        return found

    def entries(self, model: str) -> list[Entry]:
        """The promotion chain of a model, verified; raises LedgerAltered if it does not verify."""
        chain = self.chain(model)
        chain.raise_if_altered("reading it")
        return chain.entries

    def deployed(self, model: str) -> Entry | None:
        """The latest promote or rollback entry: what the environment should be running."""
        return next((e for e in reversed(self.entries(model)) if e.action in DEPLOYING), None)

    def _items(self, model: str, chain: str) -> dict[str, str]:
        ddb = self.aws.client("dynamodb")
        found: dict[str, str] = {}
        with aws_errors(f"{self.aws.env.name}: reading ledger {self._table}"):
            pages = ddb.get_paginator("query").paginate(
                TableName=self._table,
                KeyConditionExpression="#pk = :pk",
                ExpressionAttributeNames={"#pk": naming.LEDGER_PARTITION_KEY},
                ExpressionAttributeValues={":pk": {"S": self._partition(model, chain)}},
                ConsistentRead=True,
            )
            for page in pages:
                for item in page.get("Items", []):
                    found[item[naming.LEDGER_SORT_KEY]["S"]] = item.get("entry", {}).get("S", "")
        return found

    def _archived_versions(self, model: str, chain: str) -> dict[str, list[dict[str, Any]]]:
        """Versions and delete markers of each write-once copy, oldest first (S3 lists a key's
        versions newest first): the first version written is the record."""
        prefix = f"{naming.LEDGER_ARCHIVE_PREFIX}{model}/{chain}/"
        s3 = self.aws.s3
        found: dict[str, list[dict[str, Any]]] = {}
        with aws_errors(f"{self.aws.env.name}: listing the write-once ledger s3://{self._archive}/{prefix}"):
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=self._archive, Prefix=prefix):
                for v in page.get("Versions", []):
                    found.setdefault(v["Key"], []).append({"version": v["VersionId"], "deleted": False})
                for m in page.get("DeleteMarkers", []):
                    found.setdefault(m["Key"], []).append({"version": m["VersionId"], "deleted": True})
        for copies in found.values():
            copies.reverse()
            copies.sort(key=lambda c: c["deleted"])  # stable: versions oldest first, then markers
        return found

    def _read_copy(self, key: str, version: str) -> Entry:
        with aws_errors(f"{self.aws.env.name}: reading s3://{self._archive}/{key}"):
            body = self.aws.s3.get_object(Bucket=self._archive, Key=key, VersionId=version)["Body"].read()
        return Entry.parse(body.decode("utf-8"), f"s3://{self._archive}/{key}")

    # --- writing ---------------------------------------------------------------------------
    def append(self, entry: Entry) -> Entry:
        """Write `entry` as the next of its chain; raises if the chain does not verify or a
        concurrent writer took the slot (then nothing was recorded)."""
        if entry.action not in ACTIONS:
            raise ValueError(entry.action)
        chain = self.chain(entry.model, entry.chain)
        chain.raise_if_altered(f"recording '{entry.action}'")
        if chain.pending is not None:  # complete the interrupted append first
            self._put_item(chain.pending)
        last = chain.entries[-1] if chain.entries else None
        entry.seq = (last.seq if last else 0) + 1
        entry.prev = last.hash if last else None
        entry.hash = entry.computed_hash()
        key = naming.ledger_archive_key(entry.model, entry.chain, entry.seq)
        with aws_errors(f"{self.aws.env.name}: writing the write-once ledger copy s3://{self._archive}/{key}"):
            try:
                self.aws.s3.put_object(
                    Bucket=self._archive,
                    Key=key,
                    Body=entry.stored().encode(),
                    ContentType="application/json",
                    IfNoneMatch="*",
                    ChecksumAlgorithm="SHA256",
                    **self.aws.encryption_args(),
                )
            except self.aws.s3.exceptions.ClientError as exc:
                if error_code(exc) in ("PreconditionFailed", "ConditionalRequestConflict"):
                    raise PromotionError(
                        f"{self.aws.env.name}: ledger entry {entry.seq} of {entry.model} was written concurrently "
                        "by another process; nothing was recorded, run the command again"
                    ) from None
                raise
        self._put_item(entry)
        return entry

    def _put_item(self, entry: Entry) -> None:
        item = {
            naming.LEDGER_PARTITION_KEY: {"S": self._partition(entry.model, entry.chain)},
            naming.LEDGER_SORT_KEY: {"S": naming.ledger_sort(entry.seq)},
            "entry": {"S": entry.stored()},
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
                    raise LedgerAltered(
                        f"{self.aws.env.name}: ledger entry {entry.seq} of {entry.model} is recorded write-once, but "
                        f"table {self._table} already holds an item at its sort key that mlplatform did not write; "
                        f"investigate ({GUIDE})"
                    ) from None
                raise


def read_chains(aws: Aws, model: str) -> list[Chain]:
    """Both chains of a model in one environment, read side by side."""
    ledger = Ledger(aws)
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda name: ledger.chain(model, name), CHAINS))


def _chain_problem(entry: Entry, seq: int, previous: Entry | None) -> str | None:
    if entry.seq != seq:
        return f"it says it is entry {entry.seq}"
    if entry.hash != entry.computed_hash():
        return "its hash does not match its content"
    expected = previous.hash if previous else None
    if entry.prev != expected:
        return f"it does not follow entry {seq - 1} (prev {entry.prev}, expected {expected})"
    return None


def _summary(text: str | None) -> str:
    try:
        data = json.loads(text or "")
    except ValueError:
        return "not an mlplatform entry"
    if not isinstance(data, dict):
        return "not an mlplatform entry"
    return f"{data.get('action', '?')} {data.get('version', '?')} by {data.get('by', '?')}"


def _difference(archived: Entry, text: str) -> str:
    try:
        table = json.loads(text)
    except ValueError:
        return "the table item is not an mlplatform entry"
    if not isinstance(table, dict):
        return "the table item is not an mlplatform entry"
    recorded = asdict(archived)
    changed = [
        f"{k} {recorded.get(k)!r} (recorded) -> {table.get(k)!r} (table)"
        for k in sorted(set(recorded) | set(table))
        if recorded.get(k) != table.get(k) and k != "hash"
    ]
    return "; ".join(changed) or "same fields, different text"
