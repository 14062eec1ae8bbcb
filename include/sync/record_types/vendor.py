"""vendor: Ajera consultant Vendor -> CRM vendor Firm (VendorInd), one way, matched on Name.

Only vendors whose type is a consultant type are synced. The flag is only in full records, and vendor
lists are short, so every run fetches all vendors.
"""

from __future__ import annotations

from include.sync.model import parse_flag
from include.sync.record_types.base import AJERA_TO_CRM, FieldMap, RecordType, plain

FIELDS = FieldMap(ajera={"name": "Name", "email": "Email", "phone": "Phone"},
                  crm={"name": "Name", "email": "Email", "phone": "Phone"})

VENDOR = RecordType(
    name="vendor",
    ajera_entity="Vendors",
    ajera_key="VendorKey",
    crm_hub="firm",
    crm_key="ClientID",
    synced=("name", "email", "phone", "status"),
    directions=AJERA_TO_CRM,
    ajera_name=plain("Name"),
    crm_name=plain("Name"),
    ajera_fields=FIELDS.ajera_fields,
    crm_fields=FIELDS.crm_fields,
    to_ajera=FIELDS.to_ajera,
    to_crm=FIELDS.to_crm,
    ajera_flag=lambda raw: parse_flag(raw.get("VendorTypeIsConsultant")),
    crm_flag=lambda raw: False,
    crm_filters=(("VendorInd", "=", "Y"),),
    crm_new_record={"VendorInd": "Y", "ClientInd": "N", "AjeraSync": "N"},
    ajera_sync_filter=False,
    ajera_sweep_full=True,
    name_max_length=80,
    crm_name_max_length=100,
)
