#!/usr/bin/env python
"""Drive the Covage client through the whole documented sequence against a running sandbox.

    .venv/bin/python scripts/covage_walkthrough.py [--api http://127.0.0.1:8001]

token → session → line → update → a second line deleted → confirm → final states →
order tracking → export → status → download; prints what it saw at each step.

It writes orders, so it refuses to run against anything but the sandbox: the API must be on
this machine (loopback) and answer the sandbox's own /sandbox/about/ endpoint.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import socket
import sys
import tempfile
import time
from pathlib import Path
from urllib.error import URLError
from urllib.parse import urlsplit
from urllib.request import urlopen

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402

from covage.client import CovageClient  # noqa: E402
from covage.schemas import ContactInformation, LinePayload  # noqa: E402

TOKEN_PATH = "/auth/realms/covage/protocol/openid-connect/token"


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror:
        return False
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def refuse_unless_sandbox(api_url: str) -> None:
    if not is_loopback(api_url):
        sys.exit(
            f"Refusing: {api_url} is not on this machine; this script only drives the sandbox."
        )
    try:
        # Not a Covage call (the sandbox's own page), hence plain urllib and not the client.
        with urlopen(f"{api_url}/sandbox/about/", timeout=5) as answer:  # noqa: S310
            about = json.load(answer)
    except (URLError, OSError, ValueError):
        about = {}
    if not about.get("sandbox"):
        sys.exit(f"Refusing: {api_url} does not answer as the Covage sandbox (/sandbox/about/).")


def say(step: str, text: str) -> None:
    print(f"{step:<10} {text}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", default=settings.COVAGE_API_URL, help="sandbox base URL")
    parser.add_argument("--username", default=os.environ.get("COVAGE_USERNAME", "demo"))
    parser.add_argument("--password", default=os.environ.get("COVAGE_PASSWORD", "demo"))
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait for states")
    parser.add_argument("--verbose", action="store_true", help="also show the client's log")
    args = parser.parse_args()
    if not args.verbose:
        logging.getLogger("covage").setLevel(logging.WARNING)
    api = args.api.rstrip("/")
    refuse_unless_sandbox(api)

    client = CovageClient(
        base_url=api,
        token_url=api + TOKEN_PATH,
        client_id="api-client",
        username=args.username,
        password=args.password,
        read_timeout=10,
    )
    client.tokens.login()
    say("token", f"obtained for {args.username!r} at {api + TOKEN_PATH}")

    projects = client.list_projects(active=True)
    ennis = client.list_ennis(active=True, offer="BPE")
    say("referential", f"{len(projects)} active projects, {len(ennis)} active BPE ENNIs")
    project = projects[0].code if projects else ""

    external_id = f"WALK-{int(time.time())}"
    session = client.create_session(external_id=external_id, project_id=project)
    say(
        "session",
        f"created id={session.id} external_id={session.external_id} state={session.state}",
    )

    contact = ContactInformation(
        end_customer_name="Boulangerie Lefèvre",
        siret="73282932000074",
        contact1_firstname="Amélie",
        contact1_lastname="Poulain",
        contact1_email_address="amelie@example.fr",
        contact1_phone_number="0123456789",
        street_number="4",
        street_number_extension="B",
        street_name="Rue Andreï Sakharov",
        postcode="76130",
        city="Mont-Saint-Aignan",
        insee_code="76451",
        latitude=49.4744077,
        longitude=1.091455,
    )
    good = LinePayload(
        product_offering_id="2173",
        product_offering_qualification_item_id="d5a4a9aa-ba2c-4f53-95c7-0c1ce6f6e7fa",
        external_id=f"{external_id}-L1",
        offer_family="BPE",
        offer_technology="FIBDE",
        enni=ennis[0].reference if ennis else "",
        vlan_reference=1257,
        siret_known=True,
        related_contact_information=[contact],
    )
    line = client.create_line(session.id, good)
    say("line", f"created id={line.id} state={line.state} temp_ref={line.temporary_reference}")

    good.customer_order_name = "Commande n°1 — fibre"
    line = client.update_line(session.id, line.id, good, fields={"customer_order_name"})
    say("update", f"customer_order_name={line.customer_order_name!r}")

    spare = client.create_line(
        session.id,
        LinePayload(
            product_offering_id="2173",
            product_offering_qualification_item_id="spare",
            external_id=f"{external_id}-L2",
        ),
    )
    remaining = client.delete_line(session.id, spare.id)
    say("delete", f"line {spare.id} deleted; {len(remaining.items)} line(s) left")

    broken = LinePayload(
        product_offering_id="2173",
        product_offering_qualification_item_id="no-enni",
        external_id=f"{external_id}-L3",
        option_ids=["7021"],
    )
    client.create_line(session.id, broken)
    confirmed = client.confirm_session(session.id)
    say("confirm", ", ".join(f"{item.id[:8]}…={item.state}" for item in confirmed.items))

    deadline = time.monotonic() + args.timeout
    while True:
        current = client.get_session(session.id)
        if current.is_final or time.monotonic() > deadline:
            break
        time.sleep(1)
    say("final", f"session state={current.state} completed={current.completion_date}")
    for item in current.items:
        errors = "; ".join(f"{e.code} @ {e.property_path}" for e in item.termination_error)
        say("", f"line {item.external_id}: {item.state} {item.order_reference} {errors}".rstrip())
        if item.order_reference:
            order = client.get_order(item.order_reference)
            steps = client.get_order_historic(item.order_reference)
            say("tracking", f"{order.order_reference} state={order.state}, {len(steps)} step(s)")

    try:
        task_id = client.start_export()
    except Exception as exc:  # the sandbox allows one export per window and account
        say("export", f"not started: {exc}")
        return
    say("export", f"task {task_id} started")
    while (status := client.export_status(task_id)).success is None:
        if time.monotonic() > deadline + args.timeout:
            say("status", "still running; giving up")
            return
        time.sleep(1)
    say("status", f"success={status.success} started={status.started} stopped={status.stopped}")
    if status.success:
        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "export.csv"
            size = client.download_export(task_id, target)
            lines = target.read_text(encoding="utf-8").splitlines()
            say("download", f"{size} bytes, {len(lines) - 1} data row(s); header: {lines[0][:80]}…")


if __name__ == "__main__":
    main()
