"""Views print what a command got from `Session`; they compute nothing of their own. Text from
documents, the web and model servers goes through `terminal_text` before it reaches a terminal."""
