"""Every write to the directory (the pages, the admin and the line steps call these)."""

from directory.services.entries import (
    DirectoryError,
    DuplicateCustomer,
    InvalidEntry,
    NotAllowed,
    add_contact,
    add_site,
    create_customer,
    delete_entry,
    find_duplicates,
    merge_customers,
    update_entry,
)
from directory.services.from_line import SavedFromLine, save_line_customer

__all__ = [
    "DirectoryError",
    "DuplicateCustomer",
    "InvalidEntry",
    "NotAllowed",
    "SavedFromLine",
    "add_contact",
    "add_site",
    "create_customer",
    "delete_entry",
    "find_duplicates",
    "merge_customers",
    "save_line_customer",
    "update_entry",
]
