select
  tenant_id,
  "AccountID" as account_id,
  "Code" as account_code,
  "Name" as account_name,
  "Type" as account_type,
  coalesce("Class", {{ xero_account_class('"Type"') }}) as account_class,
  "SystemAccount" as system_account,
  "Status" as account_status
from {{ source('xero', 'accounts') }}
