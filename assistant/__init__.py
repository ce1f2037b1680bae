"""The assistant: settings, `Session` (the one way in for the front-ends), answering, retrieval,
the web step, the bench and the `assistant` command (`cli/`)."""
