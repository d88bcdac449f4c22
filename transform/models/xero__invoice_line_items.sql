{#- Each invoice line with its invoice, contact, account, item and tracking. Needs no journals. -#}
with line_items as (

  select * from {{ source('xero', 'invoice_line_items') }}

), invoices as (

  select * from {{ source('xero', 'invoices') }}

), contacts as (

  select tenant_id, "ContactID" as contact_id, "Name" as contact_name from {{ source('xero', 'contacts') }}

), accounts as (

  select * from {{ ref('stg_xero__accounts') }}

), organisations as (

  select * from {{ ref('stg_xero__organisations') }}

)

select
  line_items.tenant_id,
  organisations.organisation_name,
  line_items."InvoiceID" as invoice_id,
  line_items."LineItemID" as line_item_id,
  cast(line_items.line_number as {{ dbt.type_int() }}) as line_number,
  line_items."Description" as line_item_description,
  {{ xero_amount('line_items."Quantity"') }} as quantity,
  {{ xero_amount('line_items."UnitAmount"') }} as unit_amount,
  {{ xero_amount('line_items."DiscountRate"') }} as discount_rate,
  {{ xero_amount('line_items."LineAmount"') }} as line_amount,
  {{ xero_amount('line_items."TaxAmount"') }} as tax_amount,
  line_items."TaxType" as tax_type,
  invoices."Type" as type,
  invoices."InvoiceNumber" as invoice_number,
  invoices."Reference" as invoice_reference,
  invoices."Status" as invoice_status,
  invoices."LineAmountTypes" as line_amount_types,
  invoices."SentToContact" as is_sent_to_contact,
  invoices."Url" as url,
  cast(invoices."Date" as date) as invoice_date,
  cast(invoices."DueDate" as date) as due_date,
  cast(invoices."ExpectedPaymentDate" as date) as expected_payment_date,
  cast(invoices."PlannedPaymentDate" as date) as planned_payment_date,
  cast(invoices."FullyPaidOnDate" as date) as fully_paid_on_date,
  invoices."CurrencyCode" as currency_code,
  {{ xero_amount('invoices."CurrencyRate"') }} as currency_rate,
  cast(invoices."UpdatedDateUTC" as {{ dbt.type_timestamp() }}) as updated_date,
  {{ xero_json_text('invoices."Contact"', ['ContactID']) }} as contact_id,
  coalesce(contacts.contact_name, {{ xero_json_text('invoices."Contact"', ['Name']) }}) as contact_name,
  coalesce(line_items."AccountID", accounts.account_id) as account_id,
  coalesce(accounts.account_code, line_items."AccountCode") as account_code,
  accounts.account_name,
  accounts.account_type,
  accounts.account_class,
  {{ xero_json_text('line_items."Item"', ['ItemID']) }} as item_id,
  coalesce(line_items."ItemCode", {{ xero_json_text('line_items."Item"', ['Code']) }}) as item_code,
  {{ xero_json_text('line_items."Item"', ['Name']) }} as item_name,
  {{ xero_json_text('line_items."Tracking"', [0, 'Name']) }} as tracking_category_1,
  {{ xero_json_text('line_items."Tracking"', [0, 'Option']) }} as tracking_option_1,
  {{ xero_json_text('line_items."Tracking"', [1, 'Name']) }} as tracking_category_2,
  {{ xero_json_text('line_items."Tracking"', [1, 'Option']) }} as tracking_option_2
from line_items
inner join invoices
  on invoices.tenant_id = line_items.tenant_id and invoices."InvoiceID" = line_items."InvoiceID"
left join contacts
  on contacts.tenant_id = invoices.tenant_id
  and contacts.contact_id = {{ xero_json_text('invoices."Contact"', ['ContactID']) }}
left join accounts
  on accounts.tenant_id = line_items.tenant_id
  and (accounts.account_id = line_items."AccountID"
       or (line_items."AccountID" is null and accounts.account_code = line_items."AccountCode"))
left join organisations
  on organisations.tenant_id = line_items.tenant_id
