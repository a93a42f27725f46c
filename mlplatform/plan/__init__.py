"""Offline planning: run the Pulumi program under the SDK's mocks and show what it registers."""
