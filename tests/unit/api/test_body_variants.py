"""Bodies with variants: one declaration, read by the server's check and by the document."""

from __future__ import annotations

import itertools
from enum import StrEnum
from typing import Any, ClassVar

import jsonschema_rs
import pytest

from hongbao.bootstrap import services_for
from hongbao.entrypoints.http.app import create_app
from hongbao.entrypoints.http.auth.tokens import TokenSigner
from hongbao.entrypoints.http.context import ApiContext, ApiSettings
from hongbao.entrypoints.http.schemas import Body, SendPacketBody
from hongbao.entrypoints.http.schemas.identity import NewDeviceBody
from hongbao.entrypoints.http.schemas.operator import TokenBody
from hongbao.entrypoints.http.schemas.variants import (
    Required,
    Variant,
    VariantBody,
    Variants,
)
from hongbao.identity.devices import Device, FormFactor, Platform, VendorSkin
from hongbao.packets.errors import PacketCode
from hongbao.packets.model import PacketPurpose, PacketType
from hongbao.platform.clock import ManualClock
from hongbao.platform.errors import HongbaoError, InvariantViolation
from hongbao.testing import InMemoryDatabase
from tests.conftest import START_US

SECRET = b"a secret for the variants' document, 32+ bytes"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    context = ApiContext(
        services_for(InMemoryDatabase(), ManualClock(START_US)), TokenSigner(SECRET), ApiSettings()
    )
    return create_app(context).openapi()


def accepted_by_server(model: type[Body], body: dict[str, Any]) -> bool:
    try:
        model.model_validate(body)
    except HongbaoError:
        return False
    return True


def accepted_by_document(document: dict[str, Any], name: str, body: dict[str, Any]) -> bool:
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return bool(jsonschema_rs.Draft202012Validator(schema).is_valid(body))


def send_bodies() -> list[dict[str, Any]]:
    """Every packet type with every audience and purpose, each field present, null or absent."""
    bodies = []
    for packet_type, recipient, group, purpose in itertools.product(
        PacketType, ("liu-yang", None, "absent"), ("xinghe-team", None, "absent"), PacketPurpose
    ):
        body: dict[str, Any] = {
            "type": packet_type.value,
            "amount": "8.88",
            "shares": 1,
            "funding_source_id": "li-wei-balance",
            "purpose": purpose.value,
        }
        if recipient != "absent":
            body["recipient_id"] = recipient
        if group != "absent":
            body["group_id"] = group
        bodies.append(body)
    return bodies


@pytest.mark.parametrize("body", send_bodies(), ids=repr)
def test_the_document_and_the_server_agree_on_every_send_audience(
    document: dict[str, Any], body: dict[str, Any]
) -> None:
    assert accepted_by_document(document, "SendPacketBody", body) == accepted_by_server(
        SendPacketBody, body
    )


def test_a_personal_packet_to_a_group_is_refused_with_the_domains_code() -> None:
    body = {**send_bodies()[0], "type": "personal", "recipient_id": None, "group_id": "g"}
    with pytest.raises(HongbaoError) as refused:
        SendPacketBody.model_validate(body)
    assert refused.value.code is PacketCode.AUDIENCE_INVALID
    assert refused.value.details == {"field": "recipient_id"}


def test_the_device_variants_accept_exactly_the_devices_the_domain_accepts(
    document: dict[str, Any],
) -> None:
    """Every platform, form factor and vendor skin: body check, document and ``Device`` agree."""
    for platform, form, skin in itertools.product(Platform, FormFactor, VendorSkin):
        body = {
            "device_id": "d-1",
            "sim_id": "s-1",
            "platform": platform.value,
            "os_version": "17.1",
            "model": "a model",
            "form_factor": form.value,
            "vendor_skin": skin.value,
        }
        try:
            Device("d-1", "u-1", "s-1", platform, "17.1", skin, "a model", form, START_US)
            domain = True
        except HongbaoError:
            domain = False
        assert accepted_by_server(NewDeviceBody, body) == domain, body
        assert accepted_by_document(document, "NewDeviceBody", body) == domain, body


def test_a_watch_platform_must_say_it_is_a_watch_since_the_default_is_a_phone(
    document: dict[str, Any],
) -> None:
    branch = document["components"]["schemas"]["NewDeviceBody_wearos"]
    assert "form_factor" in branch["required"]
    assert branch["properties"]["form_factor"] == {"type": "string", "enum": ["watch"]}


def test_the_document_names_each_variant_under_a_discriminator(
    document: dict[str, Any],
) -> None:
    union = document["components"]["schemas"]["SendPacketBody"]
    assert union["discriminator"]["propertyName"] == "type"
    assert set(union["discriminator"]["mapping"]) == {value.value for value in PacketType}
    assert len(union["oneOf"]) == 2


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


def test_a_value_without_a_variant_stops_the_body_at_import_saying_what_to_declare() -> None:
    with pytest.raises(InvariantViolation, match="declare colour='blue'"):

        class PaintBody(Body, VariantBody):
            variants: ClassVar[Variants] = Variants(
                "colour",
                (Variant("red", (Colour.RED,), (Required("shade", PacketCode.AUDIENCE_INVALID),)),),
            )
            colour: Colour
            shade: str | None = None


def test_a_body_without_its_deciding_field_takes_the_default_variant(
    document: dict[str, Any],
) -> None:
    """A token's role defaults to user: the user variant may omit it, the operator one not."""
    bare = {"subject": "li-wei", "device_id": "d-1", "sim_id": "s-1"}
    assert accepted_by_document(document, "TokenBody", bare)
    assert accepted_by_server(TokenBody, bare)
    without_device = {"subject": "li-wei"}
    assert not accepted_by_document(document, "TokenBody", without_device)
    assert not accepted_by_server(TokenBody, without_device)
    operator = {"subject": "ops-2", "role": "operator"}
    assert accepted_by_document(document, "TokenBody", operator)
    assert accepted_by_server(TokenBody, operator)
