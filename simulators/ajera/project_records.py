"""The project's records in the simulated Ajera API, as `ajera-records.md` lists them: the project itself,
its invoice groups, phases and resources, and the timesheet filters."""

from __future__ import annotations

from simulators.ajera.fields import (
    BILLING_TYPES,
    DATE_FILTERS,
    DERIVED,
    PERSON,
    PROJECT_STATUSES,
    REF,
    STATUS,
    STATUSES,
    B,
    D,
    FieldSpec,
    FilterKind,
    I,
    N,
    S,
    v_int,
    v_str,
)

_PROJECT_DATES = ("EstimatedStartDate", "EstimatedCompletionDate", "ActualStartDate", "ActualCompletionDate")
_PROJECT_AMOUNTS = ("TotalContractAmount", "LaborContractAmount", "ExpenseContractAmount",
                    "ConsultantContractAmount", "HoursCostBudget", "LaborCostBudget", "ExpenseCostBudget",
                    "ConsultantCostBudget", "ConstructionCost", "PercentOfConstructionCost")
_PEOPLE = ("ProjectManager", "PrincipalInCharge", "MarketingContact")

PROJECT_FIELDS: dict[str, FieldSpec] = {
    "ID": S(required=True, max_len=30),
    "Description": S(required=True, max_len=80),
    "Status": STATUS(*PROJECT_STATUSES),
    "SyncToCRM": B,
    "CreateInCRM": B,
    "CRMFinalSync": B,
    "CompanyKey": FieldSpec(v_int, 1),
    "CompanyDescription": S(),
    "ProjectTypeKey": I,
    "ProjectTypeDescription": S(),
    "DepartmentKey": I,
    "DepartmentDescription": S(),
    **{role: PERSON() for role in _PEOPLE},
    "Location": S(),
    **{name: D for name in _PROJECT_DATES},
    "BillingType": FieldSpec(v_str, "TimeAndExpense", True, None, BILLING_TYPES),
    "RateTableKey": I,
    "RateTableDescription": S(),
    **{name: N for name in _PROJECT_AMOUNTS},
    "Notes": S(),
    "BillingDescription": S(),
    "CustomFields": FieldSpec(lambda v: None if v is None or isinstance(v, dict) else "must be an object"),
    "SummarizeBillingGroup": B,
    "BudgetedOverheadRate": N,
    "WageTableKey": I,
    "WageTableDescription": S(),
    "IsCertified": B,
    "RestrictTimeEntryToResourcesOnly": B,
    "TaxState": S(),
    "TaxLocalKey": I,
    "TaxLocalDescription": S(),
    "ApplySalesTax": B,
    "SalesTaxCode": S(),
    "SalesTaxRate": N,
    "RequireTimesheetNotes": B,
    "PercentDistribution": N,
    "IsFinalBudget": B,
    "BillLaborAsTE": B,
    "BillExpenseAsTE": B,
    "BillConsultantAsTE": B,
    "LockFee": B,
    "LaborEntry": S(),
    "ExpenseConsultantEntry": S(),
}

INVOICE_GROUP_FIELDS: dict[str, FieldSpec] = {
    "ProjectKey": I,
    "Description": S(required=True, max_len=80),
    "ClientKey": REF("Clients"),
    "ClientDescription": DERIVED(),
    "InvoiceFormatKey": I,
    "InvoiceFormatDescription": S(),
    "EmailInvoiceTemplateKey": I,
    "EmailInvoiceTemplateDescription": S(),
    "EmailClientStatementTemplateKey": I,
    "EmailClientStatementTemplateDescription": S(),
    "PrintBackup": B,
    "EmailIncludeBackup": B,
    "InvoiceHeaderText": S(),
    "InvoiceFooterText": S(),
    "InvoiceScope": S(),
    "Notes": S(),
}

PHASE_FIELDS: dict[str, FieldSpec] = {
    "ProjectKey": I,
    "ParentKey": I,
    "InvoiceGroupKey": I,
    "ID": S(required=True),
    "Description": S(required=True, max_len=80),
    "Status": STATUS(*PROJECT_STATUSES),
    "SyncToCRM": B,
    "CreateInCRM": B,
    "CRMFinalSync": B,
    "IsBillingGroup": B,
    "DepartmentKey": I,
    **{role: PERSON() for role in _PEOPLE},
    **{name: D for name in _PROJECT_DATES},
    **{name: N for name in _PROJECT_AMOUNTS},
    "BillingType": FieldSpec(v_str, "TimeAndExpense", True, None, BILLING_TYPES),
    "RateTableKey": I,
    "PhaseInvoiceText": S(),
    "LaborInvoiceText": S(),
    "CustomFields": FieldSpec(lambda v: None if v is None or isinstance(v, dict) else "must be an object"),
}

# Stored resource rows hold the v1 keys (EmployeeKey, VendorKey, ...); the v2 rendering drops them and
# shows the employee as a name object, as S reports ("no key is returned").
RESOURCE_FIELDS: dict[str, FieldSpec] = {
    "PhaseKey": I,
    "Status": STATUS(*STATUSES),
    "Priority": I,
    "Description": S(),
    "Notes": S(),
    "IsTask": B,
    "ActivityType": FieldSpec(v_str, "Labor", False, None, ("Labor", "Consultant", "Expense")),
    "Reference": S(),
    "PercentDistribution": N,
    "Units": N,
    "CostRate": N,
    "CostAmount": N,
    "FeeRate": N,
    "FeeAmount": N,
    "MarkupRate": N,
    "BeginBalanceCostAmount": N,
    "BeginBalanceFeeAmount": N,
    "EmployeeKey": REF("Employees"),
    "EmployeeTypeKey": I,
    "ActivityKey": I,
    "VendorKey": REF("Vendors"),
    "VendorTypeKey": I,
    **{name: D for name in _PROJECT_DATES},
}
RESOURCE_V1_ONLY = ("EmployeeKey", "EmployeeTypeKey", "ActivityKey", "VendorKey", "VendorTypeKey", *_PROJECT_DATES)

PROJECT_FILTERS = {
    "FilterByStatus": FilterKind.STR_LIST, "FilterByCompany": FilterKind.INT_LIST, "FilterByNameLike": FilterKind.STR,
    "FilterByDescriptionLike": FilterKind.STR, "FilterByDescriptionEquals": FilterKind.STR,
    "FilterByIDLike": FilterKind.STR, "FilterByProjectType": FilterKind.INT_LIST,
    "FilterBySyncToCRM": FilterKind.BOOL_LIST, **DATE_FILTERS,
}

TIMESHEET_FILTERS = {
    "FilterByCompany": FilterKind.INT_LIST, "FilterByEmployee": FilterKind.INT_LIST,
    "FilterByNameLike": FilterKind.STR, "FilterByPaid": FilterKind.BOOL, "FilterByUnpaid": FilterKind.BOOL,
    "FilterBySubmitted": FilterKind.BOOL, "FilterByUnsubmitted": FilterKind.BOOL,
    "FilterByRejected": FilterKind.BOOL, "FilterByEarliestTimesheetDate": FilterKind.DAY,
    "FilterByLatestTimesheetDate": FilterKind.DAY,
}
TIMESHEET_ROW_CAP = 500
DAY_COLUMNS = tuple(f"D{n} {kind}" for kind in ("Regular", "Overtime") for n in range(1, 8))
