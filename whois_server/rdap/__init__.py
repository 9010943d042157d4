"""RDAP over HTTP(S) (RFC 7480/9082/9083, ICANN gTLD RDAP profile 2024) on twisted.web.

* :mod:`whois_server.rdap.resource` — the one resource that answers every request;
* :mod:`whois_server.rdap.site` — :func:`~whois_server.rdap.site.make_rdap_factory`, the
  protocol factory (a ``Site`` without access log, wrapped in TLS when configured).

The JSON itself comes from :mod:`registrar.publication.rdap_json`, rendered from the public
record that :class:`~whois_server.service.RegistrationDataService` returns.
"""
