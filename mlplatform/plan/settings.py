"""The few settings worth showing next to each resource in a plan tree, by resource type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlplatform.plan.model import PlannedResource


def _get(value: Any, *path: str) -> Any:
    for step in path:
        if isinstance(value, list):
            value = value[0] if value else None
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value


def _on(value: Any) -> str:
    return "on" if value else "off"


def _endpoint_config(i: dict[str, Any]) -> list[str]:
    out = []
    for v in i.get("productionVariants") or []:
        if _get(v, "serverlessConfig"):
            out.append(f"{v.get('variantName')}: serverless {_get(v, 'serverlessConfig', 'memorySizeInMb')} MB")
        else:
            out.append(f"{v.get('variantName')}: {v.get('initialInstanceCount')} x {v.get('instanceType')}")
    out.append(f"kms {_on(i.get('kmsKeyArn'))}")
    capture = i.get("dataCaptureConfig")
    if capture:
        out.append(f"data capture {capture.get('initialSamplingPercentage')}%")
    return out


def _model(i: dict[str, Any]) -> list[str]:
    return [f"network isolation {_on(i.get('enableNetworkIsolation'))}", f"vpc {_on(i.get('vpcConfig'))}"]


def _cluster(i: dict[str, Any]) -> list[str]:
    return [
        f"k8s {i.get('version')}",
        f"public endpoint {_on(_get(i, 'vpcConfig', 'endpointPublicAccess') is not False)}",
        f"secrets encryption {_on(i.get('encryptionConfig'))}",
    ]


def _node_group(i: dict[str, Any]) -> list[str]:
    scaling = i.get("scalingConfig") or {}
    return [
        ",".join(i.get("instanceTypes") or []),
        f"{scaling.get('minSize')}..{scaling.get('maxSize')} nodes",
        str(i.get("capacityType") or "ON_DEMAND").lower().replace("_", "-"),
    ]


def _table(i: dict[str, Any]) -> list[str]:
    return [
        str(i.get("billingMode") or "PROVISIONED").lower().replace("_", "-"),
        f"pitr {_on(_get(i, 'pointInTimeRecovery', 'enabled'))}",
        f"kms {_on(_get(i, 'serverSideEncryption', 'kmsKeyArn'))}",
    ]


def _workload(i: dict[str, Any]) -> list[str]:
    spec = i.get("spec") or {}
    out = [f"replicas {spec['replicas']}"] if "replicas" in spec else []
    for c in _get(spec, "template", "spec", "containers") or []:
        res = c.get("resources") or {}
        out.append(f"{c.get('image')} cpu {_get(res, 'limits', 'cpu')} mem {_get(res, 'limits', 'memory')}")
    return out


_OPERATORS = {
    "GreaterThanThreshold": ">",
    "GreaterThanOrEqualToThreshold": ">=",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
    "LessThanLowerOrGreaterThanUpperThreshold": "outside band",
    "GreaterThanUpperThreshold": "> band",
    "LessThanLowerThreshold": "< band",
}

# CloudWatch metrics by what they measure and the unit their values come in. SageMaker reports
# ModelLatency and OverheadLatency in microseconds ("Monitor Amazon SageMaker AI with Amazon
# CloudWatch"); endpoint CPUUtilization is summed over the instance's vCPUs (up to 100% each).
_METRICS: dict[str, tuple[str, str, float]] = {  # name -> (words, unit, divisor to that unit)
    "ModelLatency": ("latency", " ms", 1000.0),
    "OverheadLatency": ("overhead latency", " ms", 1000.0),
    "CPUUtilization": ("CPU", "% (summed over vCPUs)", 1.0),
    "GPUUtilization": ("GPU", "% (summed over GPUs)", 1.0),
    "MemoryUtilization": ("memory", "%", 1.0),
    "DiskUtilization": ("disk", "%", 1.0),
    "GPUMemoryUtilization": ("GPU memory", "%", 1.0),
    "Invocations": ("invocations", "", 1.0),
    "Invocation5XXErrors": ("5xx errors", "", 1.0),
    "Invocation4XXErrors": ("4xx errors", "", 1.0),
}
_STATISTICS = {"Average": "average", "Sum": "sum", "Maximum": "max", "Minimum": "min", "SampleCount": "count"}


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def alarm_condition(i: dict[str, Any]) -> str:
    """An alarm as a person reads it: `p99 latency > 200 ms for 3 of 5 min: <its description>`."""
    operator = _OPERATORS.get(str(i.get("comparisonOperator")), "?")
    threshold = i.get("threshold")
    metric = i.get("metricName")
    if metric:
        words, unit, divisor = _METRICS.get(str(metric), (str(metric), "", 1.0))
        stat = i.get("extendedStatistic") or _STATISTICS.get(str(i.get("statistic")), i.get("statistic") or "")
        value = _number(threshold / divisor) if isinstance(threshold, int | float) else "?"
        what = f"{stat} {words}".strip()
        condition = f"{what} {operator} {value}{unit}"
        period = i.get("period")
    else:  # metric math: the expression whose value is compared
        expressions = [q.get("expression") for q in i.get("metricQueries") or [] if q.get("returnData")]
        expression = expressions[0] if expressions and expressions[0] else "metric math"
        value = _number(threshold) if isinstance(threshold, int | float) else "?"
        condition = f"{expression} {operator} {value}"
        periods = [_get(q, "metric", "period") for q in i.get("metricQueries") or []]
        period = next((p for p in periods if p), None)
    evaluations, datapoints = i.get("evaluationPeriods"), i.get("datapointsToAlarm")
    if isinstance(evaluations, int) and isinstance(period, int) and period:
        minutes = period / 60
        window = f"{_number(evaluations * minutes)} min" if minutes != 1 else f"{evaluations} min"
        condition += f" for {datapoints} of {window}" if datapoints and datapoints != evaluations else f" for {window}"
    description = i.get("alarmDescription")
    return f"{condition}: {description}" if description else condition


def _pipeline(i: dict[str, Any]) -> list[str]:
    import json

    steps = [str(s.get("Name")) for s in json.loads(i.get("pipelineDefinition") or "{}").get("Steps", [])]
    return [f"steps {' -> '.join(steps)}"] if steps else []


def _schedule(i: dict[str, Any]) -> list[str]:
    parameters = _get(i, "target", "sagemakerPipelineParameters", "pipelineParameters") or []
    started = [f"{p.get('name')}={p.get('value')}" for p in parameters if isinstance(p, dict)]
    return [f"{i.get('scheduleExpression')} {i.get('scheduleExpressionTimezone') or 'UTC'}", *started]


def _event_target(i: dict[str, Any]) -> list[str]:
    parameters = _get(i, "sagemakerPipelineTarget", "pipelineParameterLists") or []
    return [f"starts pipeline {p.get('name')}={p.get('value')}" for p in parameters if isinstance(p, dict)]


SETTINGS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": _endpoint_config,
    "aws:sagemaker/model:Model": _model,
    "aws:eks/cluster:Cluster": _cluster,
    "aws:eks/nodeGroup:NodeGroup": _node_group,
    "aws:dynamodb/table:Table": _table,
    "aws:s3/bucket:Bucket": lambda i: [str(i.get("bucket"))] if i.get("bucket") else [],
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": lambda i: [
        str(_get(i, "rules", "applyServerSideEncryptionByDefault", "sseAlgorithm"))
    ],
    "aws:s3/bucketVersioning:BucketVersioning": lambda i: [str(_get(i, "versioningConfiguration", "status"))],
    "aws:cloudwatch/logGroup:LogGroup": lambda i: [
        f"retention {i.get('retentionInDays') or 'never expires'}",
        f"kms {_on(i.get('kmsKeyId'))}",
    ],
    "aws:sns/topic:Topic": lambda i: [f"kms {_on(i.get('kmsMasterKeyId'))}"],
    "aws:cloudwatch/metricAlarm:MetricAlarm": lambda i: [alarm_condition(i)],
    "aws:appautoscaling/target:Target": lambda i: [f"{i.get('minCapacity')}..{i.get('maxCapacity')} instances"],
    "aws:ec2/natGateway:NatGateway": lambda i: [str(i.get("connectivityType") or "public")],
    "kubernetes:helm.sh/v3:Release": lambda i: [f"chart {i.get('chart')} {i.get('version') or '(version not pinned)'}"],
    "aws:eks/addon:Addon": lambda i: [f"{i.get('addonName')} {i.get('addonVersion') or '(version not pinned)'}"],
    "aws:sagemaker/pipeline:Pipeline": _pipeline,
    "aws:scheduler/schedule:Schedule": _schedule,
    "aws:cloudwatch/eventRule:EventRule": lambda i: [str(i.get("description"))] if i.get("description") else [],
    "aws:cloudwatch/eventTarget:EventTarget": _event_target,
    "kubernetes:apps/v1:Deployment": _workload,
    "kubernetes:apps/v1:StatefulSet": _workload,
}


def key_settings(resource: PlannedResource) -> list[str]:
    show = SETTINGS.get(resource.type)
    if show is None:
        return []
    try:
        return [s for s in show(resource.inputs) if s]
    except (AttributeError, TypeError, KeyError):  # an unexpected input shape: show nothing
        return []
