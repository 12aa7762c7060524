"""Load CRM export files into the raw schema of the working DuckDB database."""
