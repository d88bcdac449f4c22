{#- Xero's accounting conventions, in one place. -#}

{% macro xero_account_class(account_type) -%}
  {#- The class of a Xero account type (Accounts.Class; used when an account is missing from `accounts`). -#}
  case
    when {{ account_type }} in ('BANK', 'CURRENT', 'FIXED', 'INVENTORY', 'NONCURRENT', 'PREPAYMENT') then 'ASSET'
    when {{ account_type }} in ('CURRLIAB', 'LIABILITY', 'TERMLIAB', 'PAYG', 'SUPERANNUATIONLIABILITY', 'WAGESPAYABLELIABILITY') then 'LIABILITY'
    when {{ account_type }} = 'EQUITY' then 'EQUITY'
    when {{ account_type }} in ('REVENUE', 'SALES', 'OTHERINCOME') then 'REVENUE'
    when {{ account_type }} in ('DIRECTCOSTS', 'EXPENSE', 'OVERHEADS', 'DEPRECIATN', 'WAGESEXPENSE', 'SUPERANNUATIONEXPENSE') then 'EXPENSE'
  end
{%- endmacro %}


{% macro xero_profit_and_loss_section(account_type) -%}
  {#- The section of Xero's Profit and Loss report that shows an account of this type. -#}
  case
    when {{ account_type }} in ('REVENUE', 'SALES') then 'Income'
    when {{ account_type }} = 'DIRECTCOSTS' then 'Less Cost of Sales'
    when {{ account_type }} = 'OTHERINCOME' then 'Plus Other Income'
    else 'Less Operating Expenses'
  end
{%- endmacro %}


{% macro xero_financial_year_start(date_month, year_end_month) -%}
  {#- First month of the financial year holding `date_month` (a month's first day), for a year that ends
      at the end of month `year_end_month` (Organisation.FinancialYearEndMonth; 6 = 30 June). -#}
  cast({{ dbt.dateadd('month',
        '-1 * ((cast(extract(month from ' ~ date_month ~ ') as integer) - (' ~ year_end_month ~ ' % 12 + 1) + 12) % 12)',
        date_month) }} as date)
{%- endmacro %}


{% macro xero_month(date_expression) -%}
  cast({{ dbt.date_trunc('month', date_expression) }} as date)
{%- endmacro %}


{% macro xero_differs(left, right, tolerance='0') -%}
  {#- True when two amounts differ by a cent or more beyond `tolerance` (both sides are 2-decimal
      figures; DuckDB's doubles carry noise far below half a cent). -#}
  abs(coalesce({{ left }}, 0) - coalesce({{ right }}, 0)) >= 0.005 + coalesce({{ tolerance }}, 0)
{%- endmacro %}
