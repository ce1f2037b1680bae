"""End to end: a folder of image-only PDFs and images of Chinese and English pages, ingested with
the defaults through the CLI; every question whose answer lies only in a page's pixels finds its
file in the top 3, cited with its page, and `kb stats` counts the pages read by OCR."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app

from scans import image_bytes, image_pdf, page, scanned, write

PAGES = {
    "invoice_scan.pdf": [
        "Invoice 4471 from Harbor Supply Company. Twelve marine batteries were delivered to the "
        "boatyard; the total due is 3,480 dollars, payable by the thirtieth of June."
    ],
    "minutes.pdf": [
        "Minutes of the village council. The roof of the library will be repaired in spring.",
        "The committee voted to move the annual lighthouse festival to the second week of August, "
        "because the harbour will be dredged in July.",
    ],
    "租赁合同.pdf": [
        "租赁合同。甲方应于二〇二四年九月一日前向乙方支付全年租金人民币八万元，逾期每日按千分之一支付违约金。"
    ],
    "停水通知.jpg": [
        "停水通知：因供水管道维修，本小区将于本周六上午九点至下午五点停止供水，请居民提前储水。"
    ],
    "recipe.png": [
        "To bake the rye bread, let the dough proof for ninety minutes at room temperature, then "
        "bake it for forty minutes in a hot oven."
    ],
}

QUESTIONS = {
    "How much is due on invoice 4471 and by when?": "invoice_scan.pdf",
    "When will the lighthouse festival take place?": "minutes.pdf",
    "租金是多少，什么时候支付？": "租赁合同.pdf",
    "小区什么时候停水？": "停水通知.jpg",
    "How long should the rye dough proof?": "recipe.png",
}


def make_folder(root: Path) -> Path:
    folder = root / "scans"
    for name, texts in PAGES.items():
        images = [
            scanned(page([text], size=32), angle=1.5 * (i + 1), noise=0.004, seed=i)
            for i, text in enumerate(texts)
        ]
        if name.endswith(".pdf"):
            write(folder / name, image_pdf(images))
        else:
            write(folder / name, image_bytes(images[0], "JPEG" if name.endswith(".jpg") else "PNG"))
    # Documents with text, so that the scans compete with something.
    write(
        folder / "notes.md",
        b"# Garden notes\n\nThe pears ripen in September; water the apple trees weekly.\n",
    )
    write(folder / "笔记.md", "# 读书笔记\n\n杜甫《登高》写于重阳节，抒发了诗人漂泊的悲凉。\n".encode())
    return folder


@pytest.mark.slow
def test_questions_answered_only_by_pixels_find_their_file_in_the_top_3(tmp_path: Path) -> None:
    runner = CliRunner()
    folder = make_folder(tmp_path)
    result = runner.invoke(app, ["ingest", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["files_failed"] == [] and summary["files_added"] == len(PAGES) + 2

    for question, expected in QUESTIONS.items():
        result = runner.invoke(app, ["search", question, "--json", "-k", "3"])
        assert result.exit_code == 0, result.output
        hits = json.loads(result.stdout)["hits"]
        names = [Path(h["uri"] or h["location"]).name for h in hits]
        assert expected in names, (question, [h["location"] for h in hits])
        hit = hits[names.index(expected)]
        if expected.endswith(".pdf"):
            assert hit["page"] is not None and f"p. {hit['page']}" in hit["location"]

    stats = json.loads(runner.invoke(app, ["kb", "stats", "--json"]).stdout)
    assert stats["ocr_pages"] == sum(len(t) for t in PAGES.values())


def test_a_source_is_cited_by_file_name_and_page() -> None:
    from assistant.retrieval.sources import Source

    pdf = Source(
        "kb",
        "Lease",
        "/home/me/docs/contract.pdf, p. 3",
        "text",
        1.0,
        "id",
        uri="/home/me/docs/contract.pdf",
        page=3,
    )
    assert pdf.citation == "contract.pdf p. 3"
    note = Source("kb", "Notes", "/n/notes.md › A › B", "t", 1.0, "i", uri="/n/notes.md", heading="A > B")
    assert note.citation == "notes.md › A › B"
    web = Source(
        "web",
        "Ducks",
        "https://en.example.org/wiki/Duck",
        "t",
        1.0,
        "w",
        uri="https://en.example.org/wiki/Duck",
    )
    assert web.citation == "en.example.org"


def test_ocr_settings_reach_the_readers(tmp_path: Path) -> None:
    from assistant.settings import SettingsError, load_settings

    settings = load_settings(environ={"ASSISTANT_OCR_PAGE_TIMEOUT": "80", "ASSISTANT_OCR_MAX_PAGES": "7"})
    options = settings.ocr_options()
    # A page may use at most 40% of the file time limit, a pass 30% of it.
    assert (options.enabled, options.page_timeout, options.max_pages) == (True, 48.0, 7)
    assert options.budget == 36.0 and options.cache_dir == settings.home / "ocr-cache"
    assert load_settings(environ={"ASSISTANT_OCR": "0"}).ocr_options().enabled is False
    with pytest.raises(SettingsError, match="ASSISTANT_OCR_MAX_PAGES"):
        load_settings(environ={"ASSISTANT_OCR_MAX_PAGES": "-1"})
    with pytest.raises(SettingsError, match="ASSISTANT_OCR"):
        load_settings(environ={"ASSISTANT_OCR": "maybe"})

    # Through the CLI: with OCR off, an image is skipped with the reason and a scan fails naming it.
    folder = tmp_path / "off"
    write(folder / "photo.png", image_bytes(page(["Some words on a page."]), "PNG"))
    write(folder / "scan.pdf", image_pdf([page(["Some words on a page."])]))
    write(folder / "notes.md", b"# Notes\n\nA line of text.\n")
    result = CliRunner().invoke(
        app, ["--embedder", "minilm", "ingest", str(folder), "--json"], env={"ASSISTANT_OCR": "0"}
    )
    summary = json.loads(result.stdout)
    assert result.exit_code == 0, result.output  # notes.md went in; the failure is listed
    assert [Path(s["path"]).name for s in summary["files_skipped_list"]] == ["photo.png"]
    assert "ASSISTANT_OCR=0" in summary["files_skipped_list"][0]["reason"]
    (failed,) = summary["files_failed"]
    assert Path(failed["path"]).name == "scan.pdf" and "ASSISTANT_OCR=0" in failed["error"]
