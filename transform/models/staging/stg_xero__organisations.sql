select
  tenant_id,
  "OrganisationID" as organisation_id,
  "Name" as organisation_name,
  "BaseCurrency" as base_currency,
  cast("FinancialYearEndMonth" as {{ dbt.type_int() }}) as financial_year_end_month,
  cast("FinancialYearEndDay" as {{ dbt.type_int() }}) as financial_year_end_day
from {{ source('xero', 'organisations') }}
