"""SageMaker models and endpoint configurations."""

from __future__ import annotations

from mlplatform.plan.model import PlannedResource
from mlplatform.policy.rules import Context, as_list, dig, display_name, is_production, number, rule, show_number
from mlplatform.spec.instance_types import has_local_storage

MODEL = "aws:sagemaker/model:Model"
ENDPOINT_CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"


@rule("MLP-SM-001", "error", [ENDPOINT_CONFIG], "Endpoint storage encrypted with a KMS key", checkov="CKV_AWS_98")
def endpoint_config_kms(config: PlannedResource, ctx: Context) -> list[str]:
    if config.inputs.get("kmsKeyArn"):
        return []
    variants = as_list(config.inputs.get("productionVariants")) or [None]
    # Serverless variants have no attached storage to encrypt; instance types with local NVMe
    # storage encrypt it in hardware, and CreateEndpointConfig refuses a key for them.
    if all(dig(v, "serverlessConfig") or has_local_storage(str(dig(v, "instanceType") or "")) for v in variants):
        return []
    return [
        f"endpoint configuration '{display_name(config)}' does not encrypt instance storage: set "
        "kms_key_arn to the platform key (ModelEndpoint opt_out 'kms_encryption' turns this off)"
    ]


@rule("MLP-SM-002", "error", [MODEL], "Model container runs with network isolation", checkov="CKV_AWS_370")
def model_network_isolation(model: PlannedResource, ctx: Context) -> list[str]:
    if model.inputs.get("enableNetworkIsolation") is True:
        return []
    return [
        f"model '{display_name(model)}' container can reach the network: set enable_network_isolation=True "
        "(ModelEndpoint opt_out 'network_isolation' turns this off)"
    ]


@rule("MLP-SM-003", "error", [MODEL], "Model runs in the platform VPC")
def model_in_vpc(model: PlannedResource, ctx: Context) -> list[str]:
    vpc = model.inputs.get("vpcConfig")
    if dig(vpc, "subnets") and dig(vpc, "securityGroupIds"):
        return []
    return [
        f"model '{display_name(model)}' does not run in a VPC: set vpc_config with the platform's private "
        "subnets and a security group (ModelEndpoint opt_out 'vpc' turns this off)"
    ]


@rule("MLP-SM-004", "error", [ENDPOINT_CONFIG], "Production variants run on more than one instance")
def production_variant_count(config: PlannedResource, ctx: Context) -> list[str]:
    if not is_production(ctx.environment_of(config)):
        return []
    found = []
    for variant in as_list(config.inputs.get("productionVariants")):
        if dig(variant, "serverlessConfig"):
            continue
        count = number(dig(variant, "initialInstanceCount"))
        if count is None or count < 2:
            found.append(
                f"endpoint configuration '{display_name(config)}' variant '{dig(variant, 'variantName')}' starts "
                f"with {show_number(count or 0)} instance(s) in production, a single point of failure: set "
                "ModelEndpoint min_instances to at least 2"
            )
    return found


@rule("MLP-SM-005", "error", [ENDPOINT_CONFIG], "Captured data encrypted with a KMS key")
def data_capture_kms(config: PlannedResource, ctx: Context) -> list[str]:
    capture = config.inputs.get("dataCaptureConfig")
    if not capture or dig(capture, "enableCapture") is False:
        return []
    if dig(capture, "kmsKeyId"):
        return []
    return [
        f"endpoint configuration '{display_name(config)}' captures requests unencrypted: set "
        "data_capture_config kms_key_id to the platform key"
    ]
