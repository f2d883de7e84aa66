"""exporters layer of EmoSync (see DESIGN.md)."""
