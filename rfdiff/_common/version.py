"""The package version (one home, read by the top level and the report)."""

VERSION = "0.2.0"
