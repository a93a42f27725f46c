"""AWS access for one environment: session (profile or role), clients, and discovery from SSM.

Each environment is usually its own account, so each gets its own session: the profile or
role comes from flags or the stack config (mlplatform:awsProfile / mlplatform:awsRoleArn),
otherwise boto3's standard chain. boto3 honours AWS_ENDPOINT_URL, which is how the sandbox
and the tests point everything at a local emulator.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

from mlplatform import naming
from mlplatform.promotion.errors import PromotionError
from mlplatform.promotion.identity import Identity

if TYPE_CHECKING:
    from mlplatform.promotion.project import Environment


@contextmanager
def aws_errors(what: str) -> Iterator[None]:
    """Turn botocore failures into a one-line PromotionError naming the step."""
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectionError,
        NoCredentialsError,
        ProfileNotFound,
    )

    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise PromotionError(f"{what}: {error.get('Code', 'error')}: {error.get('Message', exc)}") from None
    except (ConnectionError, ConnectionRefusedError) as exc:
        raise PromotionError(f"{what}: cannot reach AWS ({exc}); check the network or AWS_ENDPOINT_URL") from None
    except (NoCredentialsError, ProfileNotFound) as exc:
        raise PromotionError(
            f"{what}: {exc}; set mlplatform:awsProfile or mlplatform:awsRoleArn in the stack file, "
            "or pass --aws-profile ENV=PROFILE"
        ) from None
    except (BotoCoreError, Boto3Error) as exc:
        text = str(exc)
        if "Could not connect" in text or "Connection" in text:
            raise PromotionError(f"{what}: cannot reach AWS ({text}); check the network or AWS_ENDPOINT_URL") from None
        raise PromotionError(f"{what}: {text}") from None


_LOADER: Any = None


def new_session(region: str, profile: str | None = None, credentials: tuple[str, str, str] | None = None) -> Any:
    """A boto3 session sharing one botocore data loader with every other session of this
    process: service models are parsed once, not once per environment (seconds saved)."""
    global _LOADER
    import boto3
    import botocore.session

    core = botocore.session.get_session()
    if _LOADER is None:
        _LOADER = core.get_component("data_loader")
    else:
        core.register_component("data_loader", _LOADER)
    if credentials is None:
        return boto3.Session(profile_name=profile, region_name=region, botocore_session=core)
    key, secret, token = credentials
    return boto3.Session(
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        region_name=region,
        botocore_session=core,
    )


def _session_name(person: str) -> str:
    """A role session name (2-64 of [\\w+=,.@-]) that is the person's name where it can be."""
    name = re.sub(r"[^\w+=,.@-]", "-", person)[:64]
    return name if len(name) >= 2 else f"{name}--"


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


class Aws:
    """Clients and discovered resources of one environment."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self._clients: dict[str, Any] = {}

    @cached_property
    def session(self) -> Any:
        with aws_errors(f"{self.env.name}: AWS session"):
            base = new_session(region=self.env.region, profile=self.env.profile)
            role = self.env.role_arn
            if not role and not self.env.duty:
                return base
            # The session is named after the person (the roles' trust policies require the IAM
            # user name): the ledger and the approval gate tell people apart by it.
            sts = base.client("sts")
            who = Identity.parse(str(sts.get_caller_identity()["Arn"]))
            if not role:
                partition = who.arn.split(":", 2)[1]
                role = f"arn:{partition}:iam::{who.account}:role/{self.env.names.access_role(str(self.env.duty))}"
                if who.is_session_of(role):
                    return base
            session = self.env.session_name or _session_name(who.person)
            creds = sts.assume_role(RoleArn=role, RoleSessionName=session)["Credentials"]
            return new_session(
                region=self.env.region,
                credentials=(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]),
            )

    def client(self, service: str) -> Any:
        if service not in self._clients:
            from botocore.config import Config

            config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=300)
            self._clients[service] = self.session.client(service, config=config)
        return self._clients[service]

    @property
    def s3(self) -> Any:
        return self.client("s3")

    # --- who, and where ----------------------------------------------------------------
    @cached_property
    def identity(self) -> Identity:
        """Who this environment's session is; the command stops if AWS cannot say."""
        with aws_errors(f"{self.env.name}: asking AWS who is calling (sts:GetCallerIdentity)"):
            arn = str(self.client("sts").get_caller_identity()["Arn"])
        return Identity.parse(arn)

    @property
    def account(self) -> str:
        return self.identity.account

    @property
    def partition(self) -> str:
        return self.identity.arn.split(":", 2)[1]

    # --- discovery ---------------------------------------------------------------------
    def parameter(self, key: str, required: bool = True) -> str | None:
        name = self.env.names.ssm_parameter(key)
        ssm = self.client("ssm")
        with aws_errors(f"{self.env.name}: reading SSM parameter {name}"):
            try:
                return str(ssm.get_parameter(Name=name)["Parameter"]["Value"])
            except ssm.exceptions.ParameterNotFound:
                if not required:
                    return None
        raise PromotionError(
            f"{self.env.name}: SSM parameter {name} not found in {self.env.region}; "
            f"has `pulumi up -s {self.env.stack.stack}` run (or `mlplatform sandbox` for a local try)?"
        )

    def _expected(self, key: str, expected: str, required: bool = True) -> str | None:
        """A discovered name must be the one the platform derives for this environment: an SSM
        parameter pointing elsewhere (another account's bucket) would redirect promotion."""
        value = self.parameter(key, required)
        if value is not None and value != expected:
            raise PromotionError(
                f"{self.env.name}: SSM parameter {self.env.names.ssm_parameter(key)} is {value!r}, but the platform "
                f"names it {expected!r} in account {self.account}; refusing to use it (was the parameter changed "
                "by hand, or is this the wrong account?)"
            )
        return value

    @cached_property
    def registry_bucket(self) -> str:
        return str(self._expected(naming.SSM_REGISTRY_BUCKET, self.env.names.registry_bucket(self.account)))

    @cached_property
    def ledger_table(self) -> str:
        return str(self._expected(naming.SSM_LEDGER_TABLE, self.env.names.ledger_table()))

    @cached_property
    def ledger_archive_bucket(self) -> str:
        return str(self._expected(naming.SSM_LEDGER_ARCHIVE_BUCKET, self.env.names.ledger_archive_bucket(self.account)))

    @cached_property
    def kms_key_arn(self) -> str | None:
        value = self.parameter(naming.SSM_KMS_KEY_ARN, required=False)
        prefix = f"arn:{self.partition}:kms:{self.env.region}:{self.account}:key/"
        if value is not None and not value.startswith(prefix):
            raise PromotionError(
                f"{self.env.name}: SSM parameter {self.env.names.ssm_parameter(naming.SSM_KMS_KEY_ARN)} is "
                f"{value!r}, not a key of account {self.account} in {self.env.region} ({prefix}...); refusing to use it"
            )
        return value

    def role_arn(self, duty: str) -> str | None:
        """The ARN of a duty's role, when the environment publishes it (pulumi up does)."""
        name = self.env.names.access_role(duty)
        expected = f"arn:{self.partition}:iam::{self.account}:role/{name}"
        return self._expected(naming.ssm_access_role_key(duty), expected, required=False)

    def model_package_group(self, model: str) -> str:
        expected = self.env.names.model_package_group(model)
        return self._expected(naming.ssm_model_package_group_key(model), expected, required=False) or expected

    def endpoint_alarms(self, endpoint: str) -> list[str]:
        """Alarm names of an endpoint, from its SSM parameter (written by the components)."""
        key = naming.ssm_endpoint_key(endpoint)
        text = self.parameter(key, required=False)
        if text is None:
            return []
        try:
            alarms = [str(a) for a in json.loads(text).get("alarms", [])]
        except (ValueError, AttributeError):
            raise PromotionError(
                f"{self.env.name}: SSM parameter {self.env.names.ssm_parameter(key)} is not the JSON object the "
                "components write"
            ) from None
        expected = {self.env.names.alarm(endpoint, m) for m in naming.ENDPOINT_ALARM_METRICS}
        foreign = sorted(set(alarms) - expected)
        if foreign:
            raise PromotionError(
                f"{self.env.name}: SSM parameter {self.env.names.ssm_parameter(key)} lists alarms the platform does "
                f"not create for endpoint '{endpoint}': {', '.join(foreign)}; refusing to use it"
            )
        return alarms

    def encryption_args(self) -> dict[str, str]:
        """Server-side encryption with the environment's KMS key, when it publishes one."""
        if self.kms_key_arn:
            return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_arn}
        return {}
