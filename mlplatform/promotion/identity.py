"""Who is acting, as AWS authenticated it: the caller's STS identity, never a name typed on the
command line.

Every ledger entry records the ARN `sts:GetCallerIdentity` returns for the session that wrote
it, and `by` is the person that ARN names: the session name of an assumed role (the user name
for IAM users assuming a platform role, whose trust policy requires it; the user's login for
IAM Identity Center), or the IAM user's name. Separation of duties compares persons, so one
person holding both the promoter and the approver role still cannot approve their own
promotion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlplatform.promotion.errors import PromotionError

_ASSUMED = re.compile(r"^arn:(?P<p>[\w-]+):sts::(?P<account>\d{12}):assumed-role/(?P<role>[^/]+)/(?P<session>.+)$")
_USER = re.compile(r"^arn:(?P<p>[\w-]+):(?:iam|sts)::(?P<account>\d{12}):user/(?:.*/)?(?P<name>[^/]+)$")
_ROOT = re.compile(r"^arn:(?P<p>[\w-]+):iam::(?P<account>\d{12}):root$")


@dataclass(frozen=True)
class Identity:
    arn: str
    account: str
    person: str  # session name of a role session, or the IAM user name
    role: str | None = None  # the role of a session

    @classmethod
    def parse(cls, arn: str) -> Identity:
        if m := _ASSUMED.match(arn):
            return cls(arn, m["account"], m["session"], m["role"])
        if m := _USER.match(arn):
            return cls(arn, m["account"], m["name"])
        if m := _ROOT.match(arn):
            return cls(arn, m["account"], "root")
        raise PromotionError(f"cannot tell who {arn} is: not an IAM user or a role session")

    def role_arn(self, partition: str = "aws") -> str | None:
        return f"arn:{partition}:iam::{self.account}:role/{self.role}" if self.role else None

    def is_session_of(self, role_arn: str) -> bool:
        """Whether this identity is a session of `role_arn` (arn:...:iam::ACCOUNT:role/[path/]NAME)."""
        if not self.role:
            return False
        account, _, name = role_arn.partition(":iam::")[2].partition(":role/")
        return account == self.account and name.rsplit("/", 1)[-1] == self.role

    def describe(self) -> str:
        return f"{self.person} ({self.arn})"


def check_claim(claimed: str | None, who: Identity, option: str = "--by") -> None:
    """`--by NAME` is no longer a free-text name: when given, it must be who AWS says is calling."""
    if claimed is None or claimed == who.person:
        return
    raise PromotionError(
        f"{option} {claimed} does not match your AWS identity: you are {who.describe()}. "
        f"The ledger records who AWS says is calling; omit {option}, or run with {claimed}'s credentials"
    )
