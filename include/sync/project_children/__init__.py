"""A mapped project's children, Ajera -> CRM: accounting (totals, contract, budgets, dates), team (from
timesheets) and consultants (vendor resources). They run after the project record type, on mapped
projects only, each keeping its own state so an unchanged project costs no CRM write."""
