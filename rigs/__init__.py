"""rigs layer of EmoSync (see DESIGN.md)."""
