"""vendor: Ajera consultant Vendor -> CRM vendor Firm (VendorInd), one way, matched on Name.

Only vendors whose type is a consultant type (``VendorTypeIsConsultant``) are synced. The flag is only in
full records, and vendor lists are short, so every run fetches all vendors.
"""

from __future__ import annotations

from include.sync.model import parse_flag
from include.sync.record_types.base import ACTIVE_INACTIVE, AJERA_TO_CRM, Field, Kind, RecordType, plain

VENDOR = RecordType(
    name="vendor",
    ajera_entity="Vendors",
    ajera_key="VendorKey",
    crm_hub="firm",
    crm_key="ClientID",
    fields=(
        Field("name", "Name", "Name"),
        Field("email", "Email", "PrimaryEmail"),
        Field("phone", "PrimaryPhoneNumber", "PrimaryPhone"),
        Field("status", "Status", "Status", Kind.STATUS, vocabulary=ACTIVE_INACTIVE),
    ),
    directions=AJERA_TO_CRM,
    ajera_name=plain("Name"),
    crm_name=plain("Name"),
    ajera_flag=lambda raw: parse_flag(raw.get("VendorTypeIsConsultant")),
    crm_flag=lambda raw: False,
    crm_filters=(("VendorInd", "=", "Y"),),
    crm_new_record={"VendorInd": "Y", "ClientInd": "N", "AjeraSync": "N"},
    ajera_name_filter="FilterByNameLike",
    ajera_sweep_full=True,
    name_max_length=80,
    crm_name_max_length=100,
)
