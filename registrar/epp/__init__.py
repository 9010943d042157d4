"""EPP (RFC 5730-5734, 5910, 3915) protocol layer for the registry-sync job.

Modules:

* :mod:`registrar.epp.framing` -- RFC 5734 length-prefixed framing.
* :mod:`registrar.epp.schema` -- loading the IETF XSD set and validating frames.
* :mod:`registrar.epp.types` -- frozen dataclasses shared by builders and parsers.
* :mod:`registrar.epp.commands` -- builders for outgoing command frames.
* :mod:`registrar.epp.responses` -- parsers for greetings and responses.
* :mod:`registrar.epp.client` -- blocking TLS client.
* :mod:`registrar.epp.test_registry` -- an in-process EPP test registry (tests only).
* :mod:`registrar.epp.testca` -- throw-away PKI for the test registry.

Nothing here depends on the data model; the sync job is built on top of it.
"""
