"""Test doubles for the servers the assistant talks to, on 127.0.0.1 and speaking the real wire
protocol, so the code under test is the code users run.

`loopback` is the one recording server every fake builds on (and `free_port`, `closed_port_url`);
one thin fake per protocol sits on it: `ollama` (Ollama's native API), `openai` (an
OpenAI-compatible chat server), `searxng` (SearxNG's JSON API), `pages` (web pages the fetcher
must handle). `processes` runs real servers (llama.cpp's) and `chroma` a real `chroma run`, with
what a Chroma server holds read and written through a plain client.
"""
