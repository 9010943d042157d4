"""The public service: WHOIS on port 43 (RFC 3912) and RDAP over HTTP, on Twisted's asyncio reactor."""
