"""Pulumi ComponentResources: `aws/` on pulumi-aws, `k8s/` on pulumi-kubernetes."""
