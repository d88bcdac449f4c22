{% test unique_combination(model, columns) %}
  {#- Fails with each combination of `columns` held by more than one row (the model's grain). -#}
  select {{ columns | join(', ') }}, count(*) as rows_with_this_key
  from {{ model }}
  group by {{ columns | join(', ') }}
  having count(*) > 1
{% endtest %}
