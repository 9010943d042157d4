"""Command dispatch of the test registry: session rules, login/logout, poll, object commands."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from registrar.epp import ns
from registrar.epp import test_registry_contact as contact
from registrar.epp import test_registry_domain as domain
from registrar.epp import test_registry_host as host
from registrar.epp.test_registry_ctx import Ctx, Session, find, findall, txt
from registrar.epp.test_registry_state import RegistryState
from registrar.epp.test_registry_xml import CommandError, Result, greeting, response
from registrar.epp.xmlutil import parse_xml

Handler = Callable[[Ctx, etree._Element], Result]

HANDLERS: dict[tuple[str, str], Handler] = {
    (ns.DOMAIN, "check"): domain.check,
    (ns.DOMAIN, "info"): domain.info,
    (ns.DOMAIN, "create"): domain.create,
    (ns.DOMAIN, "update"): domain.update,
    (ns.DOMAIN, "delete"): domain.delete,
    (ns.DOMAIN, "renew"): domain.renew,
    (ns.HOST, "check"): host.check,
    (ns.HOST, "info"): host.info,
    (ns.HOST, "create"): host.create,
    (ns.HOST, "update"): host.update,
    (ns.HOST, "delete"): host.delete,
    (ns.CONTACT, "check"): contact.check,
    (ns.CONTACT, "info"): contact.info,
    (ns.CONTACT, "create"): contact.create,
    (ns.CONTACT, "update"): contact.update,
    (ns.CONTACT, "delete"): contact.delete,
}

E = ns.EPP


@dataclass
class Outcome:
    """A processed frame: the bytes to send, the result code (None for a greeting), close flag."""

    response: bytes
    code: int | None
    close: bool = False


def cl_trid_of(root: etree._Element) -> str | None:
    """The clTRID of a command document if it is a usable token (3-64 chars)."""
    el = root.find(f"{ns.q(E, 'command')}/{ns.q(E, 'clTRID')}")
    value = " ".join((el.text or "").split()) if el is not None else ""
    return value if 3 <= len(value) <= 64 else None


class Processor:
    """Applies validated EPP documents to a :class:`RegistryState`."""

    def __init__(self, state: RegistryState) -> None:
        """Bind to ``state``."""
        self.state = state

    def greeting(self) -> bytes:
        """The greeting document."""
        return greeting(self.state.config, self.state.now())

    def error(self, code: int, cl_trid: str | None, reason: str | None = None,
              value: etree._Element | None = None) -> bytes:
        """A failure response outside normal processing (faults, schema errors)."""
        reasons = [(value, reason)] if reason else []
        return response(code, cl_trid, self.state.next_sv_trid(), reasons=reasons)

    def process(self, session: Session, root: etree._Element) -> Outcome:
        """Process one schema-valid document."""
        body = root[0]
        if body.tag == ns.q(E, "hello"):
            return Outcome(self.greeting(), None)
        cl_trid = cl_trid_of(root)
        if body.tag != ns.q(E, "command"):
            return Outcome(self.error(2001, None, "expected <command> or <hello>", body), 2001)
        with self.state.lock:
            sv_trid = self.state.next_sv_trid()
            try:
                result = self._dispatch(session, body)
            except CommandError as exc:
                reasons = [(exc.value, exc.reason)] if exc.reason else []
                return Outcome(response(exc.code, cl_trid, sv_trid, reasons=reasons), exc.code,
                               close=exc.code >= 2500)
            return Outcome(response(result.code, cl_trid, sv_trid, result=result), result.code,
                           close=result.close)

    def _dispatch(self, session: Session, cmd: etree._Element) -> Result:
        verb_el = cmd[0]
        verb = etree.QName(verb_el).localname
        if verb == "login":
            return self._login(session, verb_el)
        if session.cl_id is None:
            raise CommandError(2002, "log in first")
        if verb == "logout":
            session.cl_id = None
            return Result(code=1500, close=True)
        if verb == "poll":
            return self._poll(session.cl_id, verb_el)
        obj = next(c for c in verb_el if isinstance(c.tag, str))
        namespace = etree.QName(obj).namespace or ""
        if namespace not in session.obj_uris:
            raise CommandError(2307, f"object service {namespace} was not announced at login", obj)
        ext_el = cmd.find(ns.q(E, "extension"))
        extensions = [] if ext_el is None else [c for c in ext_el if isinstance(c.tag, str)]
        for ext in extensions:
            if etree.QName(ext).namespace not in session.ext_uris:
                raise CommandError(2103, f"extension {etree.QName(ext).namespace} was not announced", ext)
        handler = HANDLERS.get((namespace, verb))
        if handler is None:
            raise CommandError(2101, f"{verb} is not implemented for {namespace}")
        return handler(Ctx(self.state, session, session.cl_id, self.state.now(), extensions), obj)

    def _login(self, session: Session, el: etree._Element) -> Result:
        config = self.state.config
        if session.cl_id is not None:
            raise CommandError(2002, "already logged in")
        cl_id, pw = txt(find(el, E, "clID")), txt(find(el, E, "pw"))
        account = config.account(cl_id)
        stored = self.state.passwords.get(cl_id)
        ok = (account is not None and stored is not None
              and hmac.compare_digest(pw.encode(), stored.encode())
              and (account.cert_fingerprint is None or account.cert_fingerprint == session.cert_fingerprint))
        if not ok:
            session.login_failures += 1
            if session.login_failures >= config.max_login_failures:
                raise CommandError(2501, "too many failed logins")
            raise CommandError(2200, "invalid credentials")
        lang_el = find(find(el, E, "options"), E, "lang")
        if txt(lang_el) != "en":
            raise CommandError(2102, "only lang en is supported", lang_el)
        svcs = find(el, E, "svcs")
        objs = [txt(o) for o in findall(svcs, E, "objURI")]
        exts = [txt(x) for x in findall(find(svcs, E, "svcExtension"), E, "extURI")]
        for uri in objs:
            if uri not in config.offered_obj_uris():
                raise CommandError(2307, f"object service {uri} is not offered")
        for uri in exts:
            if uri not in config.ext_uris:
                raise CommandError(2103, f"extension {uri} is not offered")
        new_pw = find(el, E, "newPW")
        if new_pw is not None:
            self.state.passwords[cl_id] = txt(new_pw)
        session.cl_id = cl_id
        session.obj_uris, session.ext_uris = frozenset(objs), frozenset(exts)
        return Result()

    def _poll(self, cl_id: str, el: etree._Element) -> Result:
        queue = self.state.polls.setdefault(cl_id, [])
        if el.get("op") == "req":
            if not queue:
                return Result(code=1300)
            head = queue[0]
            return Result(code=1301, msgq=head, msgq_count=len(queue),
                          res_data=[parse_xml(p) for p in head.payload])
        msg_id = el.get("msgID")
        if not msg_id:
            raise CommandError(2003, "msgID missing")
        for i, entry in enumerate(queue):
            if entry.id == msg_id:
                del queue[i]
                break
        else:
            raise CommandError(2303, f"message {msg_id} not found")
        return Result(ack_next=(len(queue), queue[0].id) if queue else None)
