"""A mapped project's children, Ajera -> CRM: accounting (totals, contract, budgets, dates), team (from
timesheets), consultants (vendor resources) and contacts. They run after the project record type, on mapped
projects only, each keeping its own state so an unchanged project costs no CRM write."""

# The record types whose mappings the children read, so the step runs after all of them (in the DAG and in the
# in-process runner alike): projects, team members' employees, consultants' vendor firms (created as vendors
# if missing, which must not race the vendor type), project contacts' contacts.
AFTER = ("project", "employee", "vendor", "contact")
