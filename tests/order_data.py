"""A complete order line, typed step by step through orders.services (accents included).

Shared by the service, view, worker and benchmark tests; the values pass the confirmation
check, and `fill_line(..., field=value)` changes any of them.
"""

from __future__ import annotations

from typing import Any

from orders import services
from orders.models import OrderLine, OrderSession

OFFER = {
    "product_offering_id": "2173",
    "product_offering_qualification_item_id": "d5a4a9aa-ba2c-4f53-95c7-0c1ce6f6e7fa",
    "quote_item_id": "",
    "offer_family": "BPE",
    "offer_technology": "FIBDE",
    "option_ids": [],
    "project_id": "",
    "external_id": "",
}
TECHNICAL = {
    "delivery_mode": "",
    "enni": "CN012345",
    "enni_2": "",
    "vlan_reference": 1257,
    "additional_vlan_reference": "1258",
    "cpe_networking_number": "",
    "cpe_serial_number": "",
    "scheduled_delivery_date": None,
}
CUSTOMER = {
    "end_customer_name": "Pâtisserie Gérard",
    "siret_known": True,
    "siret": "73282932000074",
    "customer_order_name": "Commande d'été",
    "business_code": "AB123",
    "billing_site_ref": "AUX99",
    "contact1_firstname": "Gérard",
    "contact1_lastname": "Ðuriç",
    "contact1_email_address": "gerard@example.fr",
    "contact1_phone_number": "+33123456789",
    "contact2_firstname": "",
    "contact2_lastname": "",
    "contact2_email_address": "",
    "contact2_phone_number": "",
}
ADDRESS = {
    "street_number": "4",
    "street_number_extension": "B",
    "street_name": "Rue Andreï Sakharov",
    "building_name": "Bâtiment É",
    "level_number": "0",
    "postcode": "76130",
    "city": "Mont-Saint-Aignan",
    "insee_code": "76451",
    "latitude": 49.4744077,
    "longitude": 1.091455,
    "access_instructions": "Prendre la grande porte",
    "specific_request": "",
}
STEPS = (("offer", OFFER), ("technical", TECHNICAL), ("customer", CUSTOMER), ("address", ADDRESS))


def fill_line(user: Any, session: OrderSession, **changes: Any) -> OrderLine:
    line = services.add_line(user=user, session=session)
    for step, data in STEPS:
        data = {**data, **{k: v for k, v in changes.items() if k in data}}
        line = services.save_line_step(
            user=user, line=line, step=step, data=data, version=line.version
        )
    return OrderLine.objects.get(pk=line.pk)
