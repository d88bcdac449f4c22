"""tap-xero: a Singer tap for the Xero Accounting API."""
