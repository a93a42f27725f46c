"""MonitoringStack: alarms, notifications and dashboards for endpoints."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from mlplatform.spec.base import Name, SpecModel

MonitoringOptOut = Literal["kms_encryption"]

Target = Annotated[
    str,
    Field(pattern=r"^([^@\s]+@[^@\s]+\.[a-z]{2,}|https://\S+)$", description="An email or an https URL."),
]


class MonitoringStack(SpecModel):
    kind: Literal["MonitoringStack"] = "MonitoringStack"
    name: Name
    target: Literal["aws", "kubernetes"] = Field(
        "aws",
        description="aws: CloudWatch alarms, SNS, dashboard. kubernetes: PrometheusRule, "
        "ServiceMonitor, Alertmanager config, Grafana dashboard. Omitted: aws.",
    )
    endpoints: list[Name] = Field(default_factory=list, description="ModelEndpoints watched, by name. Omitted: none.")
    notify: list[Target] = Field(
        default_factory=list, description="Who is alerted: emails and https URLs. Omitted: nobody."
    )
    latency_p99_ms: float = Field(500, gt=0, description="p99 model latency alarm. Omitted: 500 ms.")
    error_rate_percent: float = Field(1.0, gt=0, le=100, description="5xx error rate alarm. Omitted: 1%.")
    no_traffic_minutes: int = Field(
        15, ge=1, le=1440, description="Alarm when invocations stay at zero this long. Omitted: 15."
    )
    cpu_percent: float = Field(90, gt=0, le=100, description="CPU utilisation alarm. Omitted: 90%.")
    memory_percent: float = Field(90, gt=0, le=100, description="Memory utilisation alarm. Omitted: 90%.")
    log_retention_days: Literal[
        1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653
    ] = Field(365, description="CloudWatch log retention. Omitted: 365 days.")
    training_job_alerts: bool = Field(
        True,
        description="Alert when a training job fails or workloads wait 30 minutes in a TrainingCluster's "
        "Kueue queue: target=aws for eks clusters (Container Insights), target=kubernetes for kubernetes "
        "ones (PrometheusRule). Omitted: on.",
    )
    model_monitor: bool = Field(
        False,
        description="target=aws: a SageMaker Model Monitor data-quality schedule on each watched endpoint "
        "that captures data, checked against the baseline registered with the promoted version. AWS no "
        "longer opens Model Monitor to new customers: set this only in accounts that already use it. "
        "Omitted: off (captured requests are still stored in the registry).",
    )
    opt_out: list[MonitoringOptOut] = Field(
        default_factory=list,
        description="Secure defaults to turn off, by name; each is reported in every plan. Omitted: all on.",
    )
