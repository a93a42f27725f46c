"""Known instance types, read from botocore's service models (not a hand-kept list).

Parsing the SageMaker model takes ~0.2 s, so the two enumerations are cached per botocore
version in the user's cache directory.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import re
from pathlib import Path

import botocore
import botocore.loaders

# GPU families are p*, g* and gr* (NVIDIA/AMD GPUs); Graviton's 'g' is a suffix (m7g), not a prefix.
_GPU_FAMILY = re.compile(r"^(ml\.)?(p\d|g\d|gr\d)")


def _cache_file() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "mlplatform" / f"instance-types-botocore-{botocore.__version__}.json"


def _from_botocore() -> dict[str, list[str]]:
    loader = botocore.loaders.Loader()
    sagemaker = loader.load_service_model("sagemaker", "service-2")["shapes"]
    ec2 = loader.load_service_model("ec2", "service-2")["shapes"]
    return {
        "sagemaker": sorted(sagemaker["ProductionVariantInstanceType"]["enum"]),
        "ec2": sorted(ec2["InstanceType"]["enum"]),
    }


@functools.cache
def known() -> dict[str, frozenset[str]]:
    cache = _cache_file()
    try:
        data = json.loads(cache.read_text())
    except (OSError, ValueError):
        data = _from_botocore()
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data))
            tmp.replace(cache)
        except OSError:
            pass  # a read-only home only costs the cache
    return {k: frozenset(v) for k, v in data.items()}


def sagemaker_types() -> frozenset[str]:
    return known()["sagemaker"]


def ec2_types() -> frozenset[str]:
    return known()["ec2"]


def is_gpu(instance_type: str) -> bool:
    return bool(_GPU_FAMILY.match(instance_type))


# Instance families with local NVMe instance storage. SageMaker encrypts it in hardware and refuses
# a KMS key for it (CreateEndpointConfig KmsKeyId: "If you specify a value for KmsKeyId when
# using any nitro-based instances with local storage, the call to CreateEndpointConfig fails").
# The 'd' families (m5d, c5d, r5d, g4dn, p3dn, p4d, m6id, ...) and the GPU/accelerator families
# whose every size has NVMe storage (EC2 User Guide, "Instance store volumes").
_LOCAL_STORAGE_FAMILY = re.compile(
    r"^(ml\.)?([a-z]+\d+[a-z]*d[a-z]*|g5|g6|g6e|g7e|p5|p5e|p5en|p6-b200|trn1|trn1n|trn2)\."
)


def has_local_storage(instance_type: str) -> bool:
    return bool(_LOCAL_STORAGE_FAMILY.match(instance_type))


def did_you_mean(value: str, choices: frozenset[str]) -> str:
    close = difflib.get_close_matches(value, sorted(choices), n=3, cutoff=0.75)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
