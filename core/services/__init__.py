"""The service layer: the only code that changes state.

Screens, the REST API and the CLI call these functions. Each checks permissions and record
rules, writes the audit event in the same transaction, and raises a
:class:`~core.services.errors.ServiceError` for anything the caller should answer with a 4xx.
"""
