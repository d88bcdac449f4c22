{% macro xero_general_ledger(journal_lines_model, accounting_basis) %}
  {#- The ledger over one staging model of journal lines (accrual or cash): each line with its
      organisation, account (class and type), source document and contact, as debit and credit. -#}
  with journal_lines as (
    select * from {{ ref(journal_lines_model) }}
  ), accounts as (
    select * from {{ ref('stg_xero__accounts') }}
  ), organisations as (
    select * from {{ ref('stg_xero__organisations') }}
  ), source_documents as (
    select * from {{ ref('stg_xero__source_documents') }}
  )
  select
    journal_lines.tenant_id,
    organisations.organisation_name,
    journal_lines.journal_id,
    journal_lines.journal_line_id,
    journal_lines.line_number,
    journal_lines.journal_number,
    journal_lines.journal_date,
    journal_lines.created_date_utc,
    journal_lines.reference,
    journal_lines.source_type,
    journal_lines.source_id,
    case when journal_lines.source_type in ('ACCREC', 'ACCPAY') then journal_lines.source_id end as invoice_id,
    case when journal_lines.source_type in ('ACCRECCREDIT', 'ACCPAYCREDIT') then journal_lines.source_id end as credit_note_id,
    case when journal_lines.source_type in ('CASHREC', 'CASHPAID') then journal_lines.source_id end as bank_transaction_id,
    case when journal_lines.source_type = 'TRANSFER' then journal_lines.source_id end as bank_transfer_id,
    case when journal_lines.source_type = 'MANJOURNAL' then journal_lines.source_id end as manual_journal_id,
    case when journal_lines.source_type in ('ACCRECPAYMENT', 'ACCPAYPAYMENT', 'ARCREDITPAYMENT', 'APCREDITPAYMENT',
                                            'AROVERPAYMENTPAYMENT', 'APOVERPAYMENTPAYMENT', 'ARPREPAYMENTPAYMENT',
                                            'APPREPAYMENTPAYMENT') then journal_lines.source_id end as payment_id,
    case when journal_lines.source_type in ('ARPREPAYMENT', 'APPREPAYMENT') then journal_lines.source_id end as prepayment_id,
    case when journal_lines.source_type in ('AROVERPAYMENT', 'APOVERPAYMENT') then journal_lines.source_id end as overpayment_id,
    source_documents.contact_id,
    source_documents.contact_name,
    journal_lines.account_id,
    coalesce(accounts.account_code, journal_lines.account_code) as account_code,
    coalesce(accounts.account_name, journal_lines.account_name) as account_name,
    coalesce(accounts.account_type, journal_lines.account_type) as account_type,
    coalesce(accounts.account_class, {{ xero_account_class('journal_lines.account_type') }}) as account_class,
    accounts.system_account,
    journal_lines.description,
    journal_lines.tracking_category_1,
    journal_lines.tracking_option_1,
    journal_lines.tracking_category_2,
    journal_lines.tracking_option_2,
    journal_lines.tax_type,
    journal_lines.tax_name,
    journal_lines.net_amount,
    case when journal_lines.net_amount > 0 then journal_lines.net_amount else 0 end as debit_amount,
    case when journal_lines.net_amount < 0 then -journal_lines.net_amount else 0 end as credit_amount,
    journal_lines.tax_amount,
    journal_lines.gross_amount,
    '{{ accounting_basis }}' as accounting_basis
  from journal_lines
  left join accounts
    on accounts.tenant_id = journal_lines.tenant_id and accounts.account_id = journal_lines.account_id
  left join organisations
    on organisations.tenant_id = journal_lines.tenant_id
  left join source_documents
    on source_documents.tenant_id = journal_lines.tenant_id and source_documents.source_id = journal_lines.source_id
{% endmacro %}
