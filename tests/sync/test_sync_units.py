"""Pure parts of the sync: the diff, contact frames, the cursor tracker, payload details."""

from __future__ import annotations

from pathlib import Path

from registrar.epp import schema
from registrar.epp.types import ContactData, ContactInfo, DomainInfo, DSRecord
from registrar.sync.diff import contact_differences, contact_update_frame, domain_changes
from registrar.sync.local import CursorTracker, WorkItem, WorkList, superordinate
from registrar.sync.payload import DesiredDomain, DesiredHost, xml_text

DS1 = DSRecord(1, 13, 2, "AB" * 32)
DS2 = DSRecord(2, 13, 2, "CD" * 32)


def info(**kw: object) -> DomainInfo:
    base: dict[str, object] = dict(name="a.test", roid="1-TEST", statuses=("ok",), rgp_statuses=(), registrant=None,
                                   contacts=(), nameservers=(), subordinate_hosts=(), ds=(), cl_id="r",
                                   auth_pw="secret-1")
    base.update(kw)
    return DomainInfo(**base)  # type: ignore[arg-type]


def desired(**kw: object) -> DesiredDomain:
    base: dict[str, object] = dict(name="a.test", nameservers=(), hosts=(), client_statuses=frozenset(), ds=(),
                                   registrant=None, tech=None)
    base.update(kw)
    return DesiredDomain(**base)  # type: ignore[arg-type]


def test_domain_changes_is_a_set_difference_and_empty_when_equal() -> None:
    want = desired(nameservers=("ns1.x.net", "ns2.x.net"), client_statuses=frozenset({"clientHold"}), ds=(DS1,))
    have = info(nameservers=("NS2.x.net", "ns3.x.net"), statuses=("clientTransferProhibited", "serverHold"),
                ds=(DS2,))
    ch = domain_changes(want, have, thick=False, auth_info="secret-1")
    assert ch.add_ns == ("ns1.x.net",) and ch.rem_ns == ("ns3.x.net",)
    assert ch.add_statuses == ("clientHold",) and ch.rem_statuses == ("clientTransferProhibited",)
    assert ch.add_ds == (DS1,) and ch.rem_ds == (DS2,)
    assert ch.auth_pw is None and ch.registrant is None
    assert "serverHold" not in ch.describe()
    same = info(nameservers=("ns1.x.net", "ns2.x.net"), statuses=("clientHold",), ds=(DS1,))
    assert domain_changes(want, same, thick=False, auth_info="secret-1").empty
    # a host that does not exist at the registry yet is not added (yet)
    assert domain_changes(want, same, thick=False, auth_info="secret-1",
                          unavailable_hosts=frozenset({"ns1.x.net"})).empty


def test_auth_info_change_is_sent_but_never_described() -> None:
    ch = domain_changes(desired(), info(auth_pw="old-secret"), thick=False, auth_info="new-secret")
    assert ch.auth_pw == "new-secret"
    assert "new-secret" not in ch.describe() and "new-secret" not in repr(ch)


def test_minimum_model_ignores_contacts_thick_compares_them() -> None:
    reg = ContactData(id="R1", name="n", city="c", cc="US", email="e@x.example")
    want = desired(registrant=reg)
    have = info(registrant="OLD", contacts=(("admin", "A1"),))
    assert domain_changes(want, have, thick=False, auth_info=None).empty
    ch = domain_changes(want, have, thick=True, auth_info=None)
    assert ch.registrant == "R1" and ch.rem_contacts == (("admin", "A1"),)


def _contact_info(data: ContactData, postal: tuple[str, ...] = ("int",)) -> ContactInfo:
    return ContactInfo(data=data, roid="C1", statuses=("ok",), cl_id="r", postal_types=postal)  # type: ignore[arg-type]


def test_contact_frames_replace_stale_blocks_and_disclose_lists(tmp_path: Path) -> None:
    want = ContactData(id="R100", name="Jane", city="Town", cc="US", email="e@x.example")
    old = ContactData(id="R100", name="Jöhn", city="Town", cc="US", email="e@x.example",
                      disclose_hidden=frozenset({"name", "email"}))
    have = _contact_info(old, ("loc",))
    assert contact_differences(want, have) == ["name", "disclose", "postalInfo type"]
    frame = contact_update_frame(want, have, cl_trid="t-000001")
    assert schema.missing_files() or schema.validate(frame) == []
    text = frame.decode()
    assert 'type="int"' in text and 'type="loc"' in text  # the stale loc block is overwritten
    assert 'flag="1"' in text  # nothing is hidden any more
    assert contact_differences(want, _contact_info(want, ("int", "loc"))) == []


def test_cursor_tracker_holds_at_the_first_incomplete_entry() -> None:
    work = WorkList(names=["a", "b", "c"], entries=[WorkItem(5, frozenset({"a"})), WorkItem(7, frozenset({"b", "c"})),
                                                    WorkItem(9, frozenset({"a"}))],
                    cursor_before=3, snapshot=12, full=False)
    t = CursorTracker(work)
    assert t.position == 4
    t.succeeded("a")
    assert t.position == 6
    t.succeeded("c")
    assert t.position == 6  # b is still missing
    t.succeeded("b")
    assert t.position == 12  # entries after the last relevant one up to the snapshot are covered


def test_payload_helpers() -> None:
    assert xml_text(" Jane\x00 \tDoe\x1f ") == "Jane Doe"
    assert xml_text("\x07") is None
    assert superordinate("ns1.a.test", ("test",)) == "a.test"
    assert superordinate("ns1.a.net", ("test",)) is None
    assert DesiredHost("ns1.a.test", ()) == DesiredHost("ns1.a.test", ())


def test_unknown_registry_statuses_are_not_stored(empty_db_url: str) -> None:
    """Statuses outside RFC 5731/3915 from a registry never reach the record (WHOIS/RDAP cannot map them)."""
    from registrar.config import RegistryConfig, load_config
    from registrar.fixtures import load
    from registrar.storage import Database, find_domain
    from registrar.sync.local import LocalStore

    db = Database(empty_db_url)
    load(db, [Path(__file__).resolve().parents[2] / "fixtures" / "registrations.toml"])
    registry = RegistryConfig(name="r", tlds=("example",), host="h", client_id="c", password_env="X")
    store = LocalStore(db, load_config(), registry, actor="sync", dry_run=False)
    info = DomainInfo(name="acme-widgets.example", roid="9-EXAMPLE",
                      statuses=("clientTransferProhibited", "serverRenewProhibited", "changeProhibited"),
                      rgp_statuses=("renewPeriod", "bogusPeriod"), registrant=None, contacts=(), nameservers=(),
                      subordinate_hosts=(), ds=(), cl_id="c")
    store.store_registry_state("acme-widgets.example", info, rgp=True)
    with db.transaction() as s:
        d = find_domain(s, "acme-widgets.example")
        assert d is not None
        assert "serverRenewProhibited" in d.statuses and "changeProhibited" not in d.statuses
        assert d.rgp_statuses == ["renewPeriod"]
        assert d.registry_roid == "9-EXAMPLE"
    db.dispose()
