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

Driving a session::

    from registrar.epp import commands as c, responses as r
    from registrar.epp.client import EppClient, EppCommandError, EppConnectionLost

    trid = c.ClTridGenerator(f"sync-{run_id}")
    with EppClient(host, 700, cert_file=..., key_file=..., ca_file=...) as client:
        client.login(cl_id, password)              # services = what we want ∩ greeting
        while (msg := r.parse_poll(client.command(c.poll_request(cl_trid=trid())))):
            ...                                    # msg.transfer / msg.pending_action
            client.command(c.poll_ack(msg.id, cl_trid=trid()))
        try:
            info = r.parse_domain_info(client.command(c.domain_info(name, cl_trid=trid())))
        except EppCommandError as exc:             # exc.code: 2303 -> create path, 2201 -> not ours
            ...
        if client.idle_seconds > keepalive:
            client.hello()

``EppConnectionLost.command_sent`` true means the outcome is unknown:
reconnect, ``info`` again, recompute, and only then resend.
"""
