"""The terminal chat app (Textual). Imports only `assistant`; nothing imports `tui` but the CLI."""
