"""Markdown blocks drawn as terminal rows by Rich, kept up to date as they grow (no widgets)."""
