"""What `assistant search` shows of each passage: its best sentences with the query's words
marked (Chinese words as the lexical index segments them, traditional found by simplified),
the path relative to the folder it was ingested from, and no bare score."""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console

from assistant.cli.views.search import print_sources
from assistant.excerpts import best_sentences
from assistant.retrieval import Source
from ingest import sync
from vectorstore.ingest_memory import shown_path

from corpus import write_files

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def marked(excerpt) -> list[str]:
    return [excerpt.text[a:b] for a, b in excerpt.matches]


def test_chinese_query_words_are_found_in_traditional_text() -> None:
    poem = (
        "風急天高猨嘯哀，渚清沙白鳥飛迴。\n無邊落木蕭蕭下，不盡長江衮衮來。\n萬里悲秋常作客，百年多病獨登臺。"
    )
    [best] = best_sentences(poem, "无边落木萧萧下是谁写的")
    assert best.text == "無邊落木蕭蕭下，不盡長江衮衮來。"
    assert marked(best) == ["無邊落木蕭蕭"]


def test_the_sentence_with_most_query_words_wins_and_others_only_if_they_add_words() -> None:
    text = (
        "第一条 为了规范数据处理活动，制定本法。第二条 在中华人民共和国境内开展数据处理活动，适用本法。"
        "第二十七条 开展数据处理活动应当建立健全全流程数据安全管理制度，履行数据安全保护义务。天气很好。"
    )
    [best] = best_sentences(text, "数据处理者有哪些数据安全保护义务？")
    assert best.text.startswith("第二十七条") and best.text.endswith("义务。")
    assert marked(best) == ["数据处理", "数据安全", "数据安全保护义务"]
    # Two sentences, each with words the other lacks, are shown in the passage's order.
    found = best_sentences("丙谈天气。乙谈到义务。甲说了保护。", "保护义务")
    assert [f.text for f in found] == ["乙谈到义务。", "甲说了保护。"]


def test_english_words_match_their_inflections_case_blind() -> None:
    text = "Owls hunt at night. A duckling follows its mother. Ducks swim."
    found = best_sentences(text, "what do ducklings and ducks do")
    assert [f.text for f in found] == ["A duckling follows its mother.", "Ducks swim."]
    assert marked(found[0]) == ["duckling"] and marked(found[1]) == ["Ducks"]


def test_a_passage_no_word_matches_shows_its_opening_unmarked() -> None:
    [opening] = best_sentences("Ein Satz über Enten. Noch einer.", "duck")
    assert opening.text == "Ein Satz über Enten." and opening.matches == ()


def test_a_long_sentence_is_cut_around_its_first_match() -> None:
    text = "word " * 200 + "the needle is here " + "word " * 200
    [cut] = best_sentences(text, "needle", width=80)
    assert cut.cut_before and cut.cut_after and len(cut.text) <= 80
    assert marked(cut) == ["needle"]


def test_the_same_sentence_is_not_shown_twice() -> None:
    text = "author: 杜甫\ntitle: 九日\nauthor: 杜甫\ntags: 登高, 秋天\ntitle: 登高"
    found = best_sentences(text, "杜甫的《登高》")
    assert [f.text for f in found] == ["author: 杜甫", "tags: 登高, 秋天"]


def test_paths_are_shown_relative_to_the_outermost_ingested_folder() -> None:
    folders = ["/home/u/Documents", "/home/u/Documents/notes", "/srv/papers"]
    assert shown_path("/home/u/Documents/notes/a.md", folders) == "Documents/notes/a.md"
    assert shown_path("/srv/papers/2024/b.pdf", folders) == "papers/2024/b.pdf"
    assert shown_path("/home/u/other/c.md", folders, home="/home/u") == "~/other/c.md"
    assert shown_path("/opt/d.md", folders, home="/home/u") == "/opt/d.md"


def test_a_single_file_ingest_shows_its_folder_name(tmp_path: Path, open_kb) -> None:
    folder = write_files(tmp_path / "reports", {"q3.md": "# Q3\n\nRevenue grew in the third quarter."})
    kb = open_kb("files")
    sync(kb, folder / "q3.md", workers=1)
    [key] = kb.files()
    assert kb.display_path(key) == "reports/q3.md"


def render(sources: list[Source], query: str) -> str:
    console = Console(file=io.StringIO(), width=80, force_terminal=True, color_system="standard")
    print_sources(console, sources, query)
    return console.file.getvalue()


def test_the_view_marks_matches_and_shows_where_each_source_is() -> None:
    kb = Source(
        "kb",
        "Data Security Law",
        "/x/docs/law.md › Chapter 4",
        "Chapter 4.\nData processors shall protect data. The weather is fine.",
        9.87654,
        "c1",
        label="K1",
        uri="/x/docs/law.md",
        heading="Chapter 4",
        path="docs/law.md",
        extra={"ocr": True},
    )
    web = Source(
        "web",
        "[bold]Ducks[/]",
        "https://example.org/ducks",
        "Ducks \x1b[31mquack\x1b[0m loudly.",
        1.0,
        "w1",
        label="W1",
        uri="https://example.org/ducks",
        extra={"suspicious": True, "snippet_only": True},
    )
    shown = render([kb, web], "what must data processors protect")
    plain = ANSI.sub("", shown)
    lines = plain.splitlines()
    assert lines[0] == "K1  docs/law.md › Chapter 4  read by OCR"
    assert lines[1] == "    Data Security Law"
    assert lines[2] == "    Data processors shall protect data."
    assert "W1  https://example.org/ducks  search snippet only  ⚠ instructions?" in plain
    assert "[bold]Ducks[/]" in plain  # a title is text, never markup
    assert "quack" in plain and "\x1b[31mquack" not in shown  # a page's escape codes never reach the terminal
    assert "9.87" not in plain and "score" not in plain.lower()
    # The matched words are drawn bold red (ripgrep's colours), nothing else is.
    assert re.findall(r"\x1b\[1;31m(.*?)\x1b\[0m", shown) == ["Data", "processors", "protect", "data"]


def test_no_sources_says_so() -> None:
    assert render([], "anything").strip() == "no sources found"
