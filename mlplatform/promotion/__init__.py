"""Model registry and promotion between environments.

Registers model versions, promotes them (gates, lock, server-side copy, stack file, ledger),
approves, rolls back, and reports history and status. Talks to AWS through boto3 only and
imports no pulumi_aws or pulumi_kubernetes, so the CLI's promote path starts fast; boto3 and
the Pulumi Automation API are imported inside the functions that need them.
"""
