"""Port-43 WHOIS front end: the query grammar (:mod:`.query`) and the protocol (:mod:`.protocol`).

Text is rendered by :mod:`registrar.publication.whois_text` from the public record; this
package only reads query lines, applies the connection and rate limits, asks the
registration-data service, and writes the reply.
"""
