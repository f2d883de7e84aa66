"""inference layer of EmoSync (see DESIGN.md)."""
