"""AWS access for one environment: session (profile or role), clients, and discovery from SSM.

Each environment is usually its own account, so each gets its own session: the profile or
role comes from flags or the stack config (mlplatform:awsProfile / mlplatform:awsRoleArn),
otherwise boto3's standard chain. boto3 honours AWS_ENDPOINT_URL, which is how the sandbox
and the tests point everything at a local emulator.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

from mlplatform import naming
from mlplatform.promotion.errors import PromotionError

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
            if not self.env.role_arn:
                return base
            creds = base.client("sts").assume_role(RoleArn=self.env.role_arn, RoleSessionName="mlplatform-promotion")[
                "Credentials"
            ]
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

    @cached_property
    def registry_bucket(self) -> str:
        return str(self.parameter(naming.SSM_REGISTRY_BUCKET))

    @cached_property
    def ledger_table(self) -> str:
        return str(self.parameter(naming.SSM_LEDGER_TABLE))

    @cached_property
    def kms_key_arn(self) -> str | None:
        return self.parameter(naming.SSM_KMS_KEY_ARN, required=False)

    def model_package_group(self, model: str) -> str:
        found = self.parameter(naming.ssm_model_package_group_key(model), required=False)
        return found or self.env.names.model_package_group(model)

    def endpoint_alarms(self, endpoint: str) -> list[str]:
        """Alarm names of an endpoint, from its SSM parameter (written by the components)."""
        text = self.parameter(naming.ssm_endpoint_key(endpoint), required=False)
        if text is None:
            return []
        try:
            return [str(a) for a in json.loads(text).get("alarms", [])]
        except (ValueError, AttributeError):
            raise PromotionError(
                f"{self.env.name}: SSM parameter {self.env.names.ssm_parameter(naming.ssm_endpoint_key(endpoint))} "
                "is not the JSON object the components write"
            ) from None

    def encryption_args(self) -> dict[str, str]:
        """Server-side encryption with the environment's KMS key, when it publishes one."""
        if self.kms_key_arn:
            return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_arn}
        return {}
