"""The blueprint language: pydantic models, `per_env`, and validation. Imports no pulumi.

Modules are imported by what they are (`mlplatform.spec.model_endpoint`); this package file
stays empty so that importing one of them does not build every model.
"""
