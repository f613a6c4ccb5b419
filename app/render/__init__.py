"""Markdown drawn as terminal lines, without widgets."""
