"""Embeddings from an Ollama server (`/api/embed`), e.g. `ollama:bge-m3`.

Wraps `langchain_ollama.OllamaEmbeddings`; the base URL comes from settings (OLLAMA_HOST).
"""

from __future__ import annotations

from .base import Embedder, EmbedderError, EmbedderOptions

#: Instructions some models want before a query (never before a passage), by model family.
#: Qwen3-Embedding is trained with one (its model card: 1-5% better retrieval with it); bge-m3
#: and nomic-embed-text's own prefixes are not needed here (bge-m3 takes none).
QUERY_INSTRUCTIONS = {
    "qwen3-embedding": ("Instruct: Given a question, retrieve passages that answer it\nQuery:"),
}


def query_instruction(model: str) -> str:
    family = model.rsplit("/", 1)[-1].split(":", 1)[0].lower()
    return QUERY_INSTRUCTIONS.get(family, "")


class OllamaEmbedder(Embedder):
    def __init__(self, model: str, *, base_url: str) -> None:
        try:
            from langchain_ollama import OllamaEmbeddings
        except ImportError as exc:
            raise EmbedderError("langchain-ollama is not installed: pip install langchain-ollama") from exc
        self._inner = OllamaEmbeddings(model=model, base_url=base_url)
        self.model_name = model
        self.base_url = base_url
        self.id = f"ollama:{model}"
        self.query_prefix = query_instruction(model)
        self._dimension: int | None = None

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = len(self.embed_query("dimension probe"))
        return self._dimension

    def _call(self, fn, arg):
        try:
            return fn(arg)
        except Exception as exc:  # httpx.ConnectError, ollama.ResponseError...
            raise EmbedderError(
                f"Ollama at {self.base_url} could not embed with '{self.model_name}': {exc}. "
                f"Start Ollama (`ollama serve`) and pull the model (`ollama pull {self.model_name}`)."
            ) from exc

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._call(self._inner.embed_documents, list(texts)) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._call(self._inner.embed_query, self.query_prefix + text)


def create(argument: str, options: EmbedderOptions) -> OllamaEmbedder:
    if not argument:
        raise EmbedderError("name the Ollama model: ollama:MODEL, e.g. ollama:bge-m3")
    return OllamaEmbedder(argument, base_url=options.ollama_url)
