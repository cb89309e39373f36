"""The sandbox's whole URLconf (ROOT_URLCONF of the sandbox process).

Every path answers with and without its trailing slash, as the documents write both. The DELETE
of a line is served where the documentation puts it, without `/v1/`.
"""

from __future__ import annotations

from django.urls import URLPattern, re_path

from covage.sandbox import addresses, views

ID = r"(?P<order_id>[^/]+)"
ITEM = r"(?P<item_id>[^/]+)"
TASK = r"(?P<task_id>[^/]+)"
REF = r"(?P<reference>[^/]+)"


def route(pattern: str, view, name: str) -> URLPattern:
    return re_path(rf"^{pattern}/?$", view, name=name)


urlpatterns = [
    route("sandbox/about", views.about, "sandbox-about"),
    # The BAN's address search (not Covage's): covage/sandbox/addresses.py.
    route("ban/search", addresses.search, "sandbox-ban-search"),
    route(
        "auth/realms/covage/protocol/openid-connect/token",
        views.token,
        "sandbox-token",
    ),
    route(
        "api/v1/product_order/export/csv",
        views.api_view({"POST": views.start_export}),
        "sandbox-export-start",
    ),
    route(
        f"api/v1/product_order/export/{TASK}/status",
        views.api_view({"GET": views.export_status}),
        "sandbox-export-status",
    ),
    route(
        f"api/v1/product_order/export/{TASK}/download",
        views.api_view({"GET": views.export_download}),
        "sandbox-export-download",
    ),
    route(
        "api/v1/product_order",
        views.api_view({"GET": views.list_sessions, "POST": views.create_session}),
        "sandbox-product-orders",
    ),
    route(
        f"api/v1/product_order/{ID}",
        views.api_view({"GET": views.get_session}),
        "sandbox-product-order",
    ),
    route(
        f"api/v1/product_order/{ID}/confirm",
        views.api_view({"PATCH": views.confirm_session}),
        "sandbox-product-order-confirm",
    ),
    route(
        f"api/v1/product_order/{ID}/product_order_item",
        views.api_view({"POST": views.create_line}),
        "sandbox-product-order-items",
    ),
    route(
        f"api/v1/product_order/{ID}/product_order_item/{ITEM}",
        views.api_view({"PATCH": views.update_line}),
        "sandbox-product-order-item",
    ),
    route(
        f"api/product_order/{ID}/product_order_item/{ITEM}",
        views.api_view({"DELETE": views.delete_line}),
        "sandbox-product-order-item-delete",
    ),
    route("api/v1/order", views.api_view({"GET": views.list_orders}), "sandbox-orders"),
    route(f"api/v1/order/{REF}", views.api_view({"GET": views.get_order}), "sandbox-order"),
    route(
        f"api/v1/order/{REF}/historic",
        views.api_view({"GET": views.order_historic}),
        "sandbox-order-historic",
    ),
    route(
        "api/v1/referential/project",
        views.api_view({"GET": views.projects}),
        "sandbox-referential-project",
    ),
    route(
        "api/v1/referential/enni",
        views.api_view({"GET": views.ennis}),
        "sandbox-referential-enni",
    ),
]

handler404 = "covage.sandbox.views.not_found"
handler500 = "covage.sandbox.views.server_error"
