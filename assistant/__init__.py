"""The assistant: settings, command line, and (later) the answer pipeline."""
