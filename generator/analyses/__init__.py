"""Analyses: functions from (model, data, settings) to plain arrays and numbers; no HTML here."""
