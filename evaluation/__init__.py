"""evaluation layer of EmoSync (see DESIGN.md)."""
