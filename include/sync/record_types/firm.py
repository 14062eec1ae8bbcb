"""firm: Ajera Client <-> CRM Firm with ClientInd, both ways, matched on Description <-> Name.

Ajera keeps no sync flag on a client (ajera-records.md lists none, and FilterBySyncToCRM exists only on
ListProjects): every Ajera client is eligible, as every employee is. The CRM's Sync to Ajera flag
(``AjeraSync``) picks the CRM firms.
"""

from __future__ import annotations

from include.sync.record_types.base import ACTIVE_INACTIVE, BOTH, Field, Kind, RecordType, plain

FIRM = RecordType(
    name="firm",
    ajera_entity="Clients",
    ajera_key="ClientKey",
    crm_hub="firm",
    crm_key="ClientID",
    fields=(
        Field("name", "Description", "Name"),
        Field("status", "Status", "Status", Kind.STATUS, vocabulary=ACTIVE_INACTIVE),
        Field("phone", "PrimaryPhoneNumber", "PrimaryPhone"),
        Field("email", "Email", "PrimaryEmail"),
        Field("website", "Website", "WebSite"),
        Field("address", "PrimaryAddressLineOne", "PrimaryAddress1"),
        Field("city", "PrimaryAddressCity", "PrimaryCity"),
        Field("state", "PrimaryAddressState", "PrimaryState"),
        Field("zip", "PrimaryAddressZip", "PrimaryZip"),
    ),
    directions=BOTH,
    ajera_name=plain("Description"),
    crm_name=plain("Name"),
    crm_filters=(("ClientInd", "=", "Y"),),
    crm_new_record={"ClientInd": "Y", "VendorInd": "N", "AjeraSync": "Y"},
    ajera_new_record={"Status": "Active"},
    ajera_name_filter="FilterByNameEquals",
    name_max_length=80,
    crm_name_max_length=100,
)
