"""One module per command group; each command reads its data from `state.session` and hands it to
a view in `..views`."""
