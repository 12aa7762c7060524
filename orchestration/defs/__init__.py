"""Dagster definitions, auto-loaded by orchestration.definitions: ingest, dbt, clv, quality, publish, automation."""
