"""The two baselines ``bench/run.py`` measures our server against.

* ``whois``: a bare Twisted protocol on the asyncio reactor that waits for one line, answers a
  fixed ~2 KB WHOIS-like text and closes the connection (what RFC 3912 asks of a server, with no
  lookup, no formatting, no logging).
* ``rdap``: a bare ``twisted.web`` leaf resource returning a fixed ~3 KB JSON document
  (``application/rdap+json``) on a :class:`~twisted.web.server.Site` with ``logPath=None`` and the
  access log switched off, HTTP/1.1 keep-alive as twisted.web does it.

Both listen with a backlog of 1024 and announce their ports on stderr the way ``whois-server``
does (``WHOIS listening on HOST port N`` / ``RDAP listening on HOST port N``)::

    python bench/baselines.py --whois-port 0 --rdap-port 0    # both in one process, like ours
    python bench/baselines.py --whois-port 4344               # only the WHOIS baseline

SIGTERM or SIGINT stops it.
"""

from __future__ import annotations

import argparse
import json
import sys

BACKLOG = 1024
MAX_LINE = 512


def whois_text() -> bytes:
    """A fixed WHOIS-like answer of about 2 KB (the size of one of our domain replies)."""
    lines = [
        "Domain Name: HARBOUR-BAKERY.EXAMPLE",
        "Registry Domain ID: D1234567-EXAMPLE",
        "Registrar WHOIS Server: whois.registrar.example",
        "Registrar URL: https://www.registrar.example",
        "Updated Date: 2024-05-01T10:00:00Z",
        "Creation Date: 2019-03-14T09:26:53Z",
        "Registrar Registration Expiration Date: 2026-03-14T09:26:53Z",
        "Registrar: Example Registrar, Inc.",
        "Registrar IANA ID: 9999",
        "Registrar Abuse Contact Email: abuse@registrar.example",
        "Registrar Abuse Contact Phone: +1.5555550100",
        "Domain Status: clientTransferProhibited https://icann.org/epp#clientTransferProhibited",
        "Registry Registrant ID: REDACTED FOR PRIVACY",
        "Registrant Name: REDACTED FOR PRIVACY",
        "Registrant Organization: Harbour Bakery Ltd",
        "Registrant Street: REDACTED FOR PRIVACY",
        "Registrant City: REDACTED FOR PRIVACY",
        "Registrant State/Province: Sampleshire",
        "Registrant Postal Code: REDACTED FOR PRIVACY",
        "Registrant Country: GB",
        "Registrant Phone: REDACTED FOR PRIVACY",
        "Registrant Email: Please query the RDDS service of the Registrar of Record identified in this "
        "output for information on how to contact the Registrant of the queried domain name.",
        "Registry Tech ID: REDACTED FOR PRIVACY",
        "Tech Name: REDACTED FOR PRIVACY",
        "Tech Phone: REDACTED FOR PRIVACY",
        "Tech Email: https://www.registrar.example/contact-domain-holder?domain=harbour-bakery.example&role=tech",
        "Name Server: NS1.DNS-HOSTING.EXAMPLE",
        "Name Server: NS2.DNS-HOSTING.EXAMPLE",
        "DNSSEC: unsigned",
        "URL of the ICANN Whois Inaccuracy Complaint Form: https://www.icann.org/wicf/",
        ">>> Last update of WHOIS database: 2024-05-01T10:00:00Z <<<",
        "",
        "For more information on Whois status codes, please visit https://icann.org/epp",
        "",
        "The data in this record is provided by Example Registrar, Inc. for informational purposes only; "
        "it does not guarantee its accuracy. By submitting a WHOIS query you agree to use this data only "
        "for lawful purposes and that under no circumstances will you use it to allow, enable or otherwise "
        "support the transmission of mass unsolicited commercial advertising or solicitations, or to enable "
        "high volume, automated, electronic processes that send queries or data to the systems of the "
        "registrar or any registry operator, except as reasonably necessary to register domain names or "
        "modify existing registrations.",
    ]
    text = "\r\n".join(lines) + "\r\n"
    while len(text) < 2048:
        text += "% Terms of use: https://www.registrar.example/legal/rdds-terms\r\n"
    return text.encode()


def rdap_json() -> bytes:
    """A fixed RDAP-like domain document of about 3 KB."""
    link = {"value": "https://rdap.registrar.example/domain/harbour-bakery.example", "rel": "self",
            "href": "https://rdap.registrar.example/domain/harbour-bakery.example",
            "type": "application/rdap+json"}
    redacted_entity = {
        "objectClassName": "entity", "roles": ["registrant"],
        "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", ""],
                                 ["org", {}, "text", "Harbour Bakery Ltd"],
                                 ["adr", {"cc": "GB"}, "text", ["", "", "", "", "Sampleshire", "", ""]]]],
        "remarks": [{"title": "REDACTED FOR PRIVACY", "type": "object redacted due to authorization",
                     "description": ["Some of the data in this object has been removed."]}],
    }
    doc = {
        "rdapConformance": ["rdap_level_0", "icann_rdap_response_profile_1",
                            "icann_rdap_technical_implementation_guide_1", "redacted"],
        "objectClassName": "domain", "handle": "D1234567-EXAMPLE", "ldhName": "harbour-bakery.example",
        "links": [link],
        "status": ["client transfer prohibited"],
        "events": [{"eventAction": "registration", "eventDate": "2019-03-14T09:26:53Z"},
                   {"eventAction": "expiration", "eventDate": "2026-03-14T09:26:53Z"},
                   {"eventAction": "last changed", "eventDate": "2024-05-01T10:00:00Z"},
                   {"eventAction": "last update of RDAP database", "eventDate": "2024-05-01T10:00:00Z"}],
        "nameservers": [{"objectClassName": "nameserver", "ldhName": f"ns{i}.dns-hosting.example"}
                        for i in (1, 2)],
        "secureDNS": {"delegationSigned": False},
        "entities": [
            {"objectClassName": "entity", "handle": "9999", "roles": ["registrar"],
             "publicIds": [{"type": "IANA Registrar ID", "identifier": "9999"}],
             "vcardArray": ["vcard", [["version", {}, "text", "4.0"],
                                      ["fn", {}, "text", "Example Registrar, Inc."]]],
             "entities": [{"objectClassName": "entity", "roles": ["abuse"],
                           "vcardArray": ["vcard", [["version", {}, "text", "4.0"],
                                                    ["fn", {}, "text", "Abuse"],
                                                    ["tel", {"type": "voice"}, "uri", "tel:+1.5555550100"],
                                                    ["email", {}, "text", "abuse@registrar.example"]]]}]},
            redacted_entity,
        ],
        "redacted": [{"name": {"type": "Registrant Name"},
                      "prePath": "$.entities[?(@.roles[0]=='registrant')].vcardArray[1][?(@[0]=='fn')][3]",
                      "method": "emptyValue",
                      "reason": {"type": "Server policy"}}],
        "notices": [
            {"title": "Terms of Service",
             "description": ["By querying our RDAP service you agree to our terms."],
             "links": [{"href": "https://www.registrar.example/legal/rdds-terms", "rel": "terms-of-service",
                        "type": "text/html", "value": link["value"]}]},
            {"title": "Status Codes",
             "description": ["For more information on domain status codes, please visit https://icann.org/epp"],
             "links": [{"href": "https://icann.org/epp", "rel": "glossary", "type": "text/html",
                        "value": link["value"]}]},
            {"title": "RDDS Inaccuracy Complaint Form", "description": ["URL of the ICANN RDDS Inaccuracy "
                                                                        "Complaint Form: https://icann.org/wicf"],
             "links": [{"href": "https://icann.org/wicf", "rel": "help", "type": "text/html",
                        "value": link["value"]}]},
        ],
        "port43": "whois.registrar.example",
    }
    body = json.dumps(doc, separators=(",", ":"))
    pad = max(0, 3072 - len(body) - len(',"remarks":[{"description":[""]}]'))
    doc["remarks"] = [{"description": ["x" * pad]}]
    return json.dumps(doc, separators=(",", ":")).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--whois-port", type=int, help="serve the WHOIS baseline on this port (0: any)")
    parser.add_argument("--rdap-port", type=int, help="serve the RDAP baseline on this port (0: any)")
    args = parser.parse_args(argv)
    if args.whois_port is None and args.rdap_port is None:
        parser.error("give --whois-port and/or --rdap-port")

    from twisted.internet import asyncioreactor

    asyncioreactor.install()
    from twisted.internet import protocol, reactor
    from twisted.web import resource, server

    answer = whois_text()

    class BareWhois(protocol.Protocol):
        """Read one line, write the fixed answer, close."""

        def connectionMade(self) -> None:
            self.buf = b""

        def dataReceived(self, data: bytes) -> None:
            self.buf += data
            if b"\n" in self.buf or len(self.buf) > MAX_LINE:
                self.transport.write(answer)
                self.transport.loseConnection()
                self.dataReceived = lambda data: None  # type: ignore[method-assign]

    class BareWhoisFactory(protocol.Factory):
        protocol = BareWhois
        noisy = False

    body = rdap_json()

    class FixedJson(resource.Resource):
        isLeaf = True

        def render_GET(self, request: server.Request) -> bytes:
            request.setHeader(b"content-type", b"application/rdap+json")
            return body

    class QuietSite(server.Site):
        """No access log at all (logPath=None alone still formats a line per request)."""

        noisy = False

        def log(self, request: server.Request) -> None:
            pass

    if args.whois_port is not None:
        port = reactor.listenTCP(args.whois_port, BareWhoisFactory(), backlog=BACKLOG, interface=args.host)
        print(f"WHOIS listening on {args.host} port {port.getHost().port}", file=sys.stderr, flush=True)
    if args.rdap_port is not None:
        site = QuietSite(FixedJson(), logPath=None)
        port = reactor.listenTCP(args.rdap_port, site, backlog=BACKLOG, interface=args.host)
        print(f"RDAP listening on {args.host} port {port.getHost().port}", file=sys.stderr, flush=True)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
