"""Markdown to terminal rows: pure, text in and Rich segments out, no widgets."""
