"""The flat Ajera blocks (PHONE, ADDR) and both systems' date forms."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

# Ajera writes LastModifiedDate in the tenant's zone with the zone's name; the seed uses a few US zones
# (standard and daylight time), so the sync's date parsing sees every offset form.
AJERA_ZONES = [(-300, "Eastern Standard Time"), (-240, "Eastern Daylight Time"), (-360, "Central Standard Time"),
                (-420, "Mountain Standard Time"), (-480, "Pacific Standard Time"), (-420, "Pacific Daylight Time")]


def ajera_date(moment: datetime, zone: tuple[int, str] = (-300, "Eastern Standard Time")) -> str:
    """``moment`` (UTC) in Ajera's own form: "2023-09-27 09:57:49.607 GMT-04:00 (Eastern Daylight Time)"."""
    offset, name = zone
    local = moment + timedelta(minutes=offset)
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset), 60)
    return f"{local:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d} GMT{sign}{hours:02d}:{minutes:02d} ({name})"


PHONE_PARTS = ("PrimaryPhone", "SecondaryPhone", "TertiaryPhone", "Fax")
ADDRESS_PARTS = ("LineOne", "LineTwo", "LineThree", "City", "State", "Zip", "Country")


def phone_block(primary: str, fax: str = "", secondary: str = "") -> dict[str, str]:
    """The flat PHONE block; empty text is "" as Ajera returns it."""
    out = {f"{which}{part}": "" for which in PHONE_PARTS for part in ("Number", "Description")}
    out.update({"PrimaryPhoneNumber": primary, "PrimaryPhoneDescription": "Main" if primary else ""})
    if secondary:
        out.update({"SecondaryPhoneNumber": secondary, "SecondaryPhoneDescription": "Mobile"})
    if fax:
        out.update({"FaxNumber": fax, "FaxDescription": "Fax"})
    return out


def address_block(line1: str, city: str, state: str, zip_code: str, line2: str = "",
             mailing: tuple[str, str, str, str] | None = None) -> dict[str, Any]:
    """The flat ADDR block: primary address, and a mailing address that is the same or another one."""
    out: dict[str, Any] = {}
    for prefix, (one, two, town, st, code) in (
        ("PrimaryAddress", (line1, line2, city, state, zip_code)),
        ("MailingAddress", (mailing[0], "", mailing[1], mailing[2], mailing[3]) if mailing else ("", "", "", "", "")),
    ):
        out.update({f"{prefix}LineOne": one, f"{prefix}LineTwo": two, f"{prefix}LineThree": "",
                    f"{prefix}City": town, f"{prefix}State": st, f"{prefix}Zip": code,
                    f"{prefix}Country": "United States" if one else ""})
    out["MailingAddressSameAsPrimary"] = mailing is None
    return out


def crm_date(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}"
