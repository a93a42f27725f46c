"""The Pulumi program: `pulumi up -s dev|staging|prod` from the repository root runs this."""

from mlplatform.program import main

main()
