"""cli layer of EmoSync (see DESIGN.md)."""
