"""Values shared by the directory's tests."""

SITE = {
    "street_number": "4",
    "street_number_extension": "B",
    "street_name": "Rue Andreï Sakharov",
    "postcode": "76130",
    "city": "Mont-Saint-Aignan",
    "insee_code": "76451",
}
