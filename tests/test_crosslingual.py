"""The lexical side across languages: CC-CEDICT translations of a query's words, the second lexical
list they find, and how fusion weighs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.retrieval import dictionary as cedict
from assistant.retrieval.dictionary import Dictionary, QueryTranslation, translate_query, translator
from assistant.retrieval.fusion import Ranked, fuse_evidence, hybrid_evidence, translation_coverage

LINES = [
    "# CC-CEDICT sample",
    "狗 狗 [gou3] /dog/CL:隻|只[zhi1],條|条[tiao2]/",
    "跑 跑 [pao2] /(of an animal) to paw (the ground)/",
    "跑 跑 [pao3] /to run/to run away/to escape/to run around (on errands etc)/",
    "學生 学生 [xue2 sheng5] /student/schoolchild/",
    "招生 招生 [zhao1 sheng1] /to enroll new students/to get students/",
    "睡覺 睡觉 [shui4 jiao4] /to go to bed/to sleep/",
    "喫 吃 [chi1] /variant of 吃[chi1]/",
    "吃 吃 [chi1] /to eat; to consume/to eat at (a cafeteria etc)/",
    "張 张 [Zhang1] /surname Zhang/",
    "華盛頓 华盛顿 [Hua2 sheng4 dun4] /Washington (name)/",
    "月亮 月亮 [yue4 liang5] /the moon/",
]


@pytest.fixture(scope="module")
def sample() -> Dictionary:
    return Dictionary(LINES, {"学生": 100000, "招生": 10})


def terms(found) -> list[str]:
    return [t.term for t in found]


def test_chinese_words_read_in_english_main_reading_first(sample: Dictionary) -> None:
    assert terms(sample.english("狗")) == ["dog"]  # the classifier note is not a sense
    assert terms(sample.english("跑"))[0] == "run"  # pao3 (six senses) before pao2 (to paw)
    assert "sleep" in terms(sample.english("睡觉"))
    assert terms(sample.english("吃"))[:2] == ["eat", "consume"]  # not "variant" (喫's cross-reference)
    # Proper names (capitalised pinyin) are not translations.
    assert sample.english("华盛顿") == [] and sample.english("张") == []
    assert sample.english("不存在") == []


def test_english_words_read_in_chinese_by_their_base_form(sample: Dictionary) -> None:
    assert terms(sample.chinese("dog")) == ["狗"]
    assert terms(sample.chinese("Dogs")) == ["狗"]
    assert terms(sample.chinese("running"))[0] == "跑"
    # A gloss that names the word ("student") before a phrase that mentions it.
    assert terms(sample.chinese("students"))[0] == "学生"
    assert terms(sample.chinese("moon")) == ["月亮"]
    assert sample.chinese("washington") == []
    weights = [t.weight for t in sample.chinese("students")]
    assert weights[0] == 1.0 and weights == sorted(weights, reverse=True)


def test_a_query_is_translated_word_by_word_without_its_function_words(sample: Dictionary) -> None:
    translation = translate_query(["i", "am", "going", "sleep"], sample)
    assert translation.words == {"sleep": ("睡觉",)}
    assert translation.terms == ["睡觉"] and translation
    translation = translate_query(["他", "跑", "学生"], sample)
    assert set(translation.words) == {"跑", "学生"}
    assert "run" in translation.words["跑"] and "student" in translation.words["学生"]
    # A word the dictionary lacks is read character by character; none found is no translation.
    assert "dog" in translate_query(["狗跑"], sample).words["狗跑"]
    assert not translate_query(["xyzzy"], sample)


def test_the_translator_normalises_the_query_first(sample: Dictionary) -> None:
    translate = translator(lambda: sample)
    assert "dog" in translate("我的狗").terms  # 我的 is a function word
    assert "student" in translate("學生").terms  # traditional folded to simplified


def test_the_dictionary_is_cached_and_rebuilt_when_unreadable(tmp_path: Path, monkeypatch) -> None:
    import gzip

    source = tmp_path / "cedict.txt.gz"
    source.write_bytes(gzip.compress("\n".join(LINES).encode()))
    monkeypatch.setattr(cedict.tempfile, "gettempdir", lambda: str(tmp_path))
    built = cedict._cached(source)
    [cache] = tmp_path.glob("r1-assistant-cedict-*.marshal")
    again = cedict._cached(source)
    assert terms(again.chinese("dog")) == terms(built.chinese("dog")) == ["狗"]
    assert terms(again.english("跑")) == terms(built.english("跑"))
    cache.write_bytes(b"not marshal")
    assert terms(cedict._cached(source).english("狗")) == ["dog"]


def test_the_shipped_dictionary_reads_common_words_both_ways() -> None:
    real = cedict.dictionary()
    assert "dog" in terms(real.english("狗"))
    assert "狗" in terms(real.chinese("dogs"))
    assert "学生" in terms(real.chinese("student"))
    assert "airplane" in terms(real.english("飞机"))


def test_translation_coverage_counts_a_word_found_by_any_rendering() -> None:
    words = {"dog": ("狗", "犬"), "sleep": ("睡觉",), "tom": ()}
    # Weighted by the length of the query word: dog (3 letters) and sleep (5) found, tom not.
    found = translation_coverage(words, "我的狗在睡觉")
    assert 0.5 < found < 1.0
    assert translation_coverage(words, "我的犬") < found
    assert translation_coverage(words, "无关的句子") == 0.0
    assert translation_coverage({}, "text") == 0.0
    assert translation_coverage({"狗": ("dog",)}, "Two dogs barked.") == 1.0


def test_the_translated_list_speaks_for_passages_of_its_script_only() -> None:
    query = "The dog is sleeping."
    texts = {
        "zh1": "狗在睡觉。",
        "zh2": "猫在吃鱼。",
        "en1": "The dog barked at the cat.",
        "en2": "Sleeping late.",
    }
    dense = [Ranked("zh2", 0.80), Ranked("zh1", 0.79), Ranked("en1", 0.5), Ranked("en2", 0.4)]
    lexical = [Ranked("en1", 3.0), Ranked("en2", 2.0)]
    translated = [Ranked("zh1", 4.0), Ranked("zh2", 0.5)]
    evidence = hybrid_evidence(
        query,
        [(dense, None, [texts[r.id] for r in dense])],
        lexical,
        [texts[r.id] for r in lexical],
        translated=translated,
        translated_texts=[texts[r.id] for r in translated],
        translation={"dog": ("狗",), "sleeping": ("睡觉", "睡")},
    )
    keyword = [e for e in evidence if e.group == "lexical"]
    assert len(keyword) == 2
    assert keyword[0].unreadable == {"zh1", "zh2"} and keyword[1].unreadable == {"en1", "en2"}
    # Its best hit holds a rendering of every query word, and it speaks for what the query's own
    # words did not find ("sleeping" is in no English passage that also has "dog").
    assert 0 < keyword[0].weight < 1 and keyword[1].weight == pytest.approx(1 - keyword[0].weight)
    fused = [r.id for r in fuse_evidence(evidence)]
    # The dense list barely preferred the wrong sentence; the translation's words decide.
    assert fused.index("zh1") < fused.index("zh2")


def test_a_translation_has_no_say_where_the_query_words_all_occur() -> None:
    # A Chinese question whose words are all in a Chinese passage: the English passages its
    # translation finds cannot outrank that passage, however peaked their scores.
    query = "数据分类分级保护制度"
    lexical = [Ranked("law", 5.0)]
    translated = [Ranked("en1", 9.0), Ranked("en2", 1.0), Ranked("en3", 0.9)]
    evidence = hybrid_evidence(
        query,
        [],
        lexical,
        ["国家建立数据分类分级保护制度"],
        translated=translated,
        translated_texts=["Data classification protects the system.", "x", "y"],
        translation={
            "数据": ("data",),
            "分类": ("classification",),
            "保护": ("protect",),
            "制度": ("system",),
        },
    )
    assert evidence[0].weight == 1.0 and evidence[1].weight == 0.0
    assert fuse_evidence(evidence)[0].id == "law"


def test_without_a_translated_list_fusion_is_unchanged() -> None:
    dense = [Ranked("a", 0.9), Ranked("b", 0.5)]
    lexical = [Ranked("b", 2.0)]
    plain = hybrid_evidence("a b", [(dense, None, ["a", "b"])], lexical, ["b"])
    empty = hybrid_evidence(
        "a b",
        [(dense, None, ["a", "b"])],
        lexical,
        ["b"],
        translated=[],
        translation=QueryTranslation({}).words,
    )
    assert [r.id for r in fuse_evidence(plain)] == [r.id for r in fuse_evidence(empty)]
    assert all(e.group != "lexical" for e in plain)


def test_a_querys_entries_from_the_lookup_table_translate_as_the_whole_dictionary(
    tmp_path: Path, monkeypatch
) -> None:
    from benchmarks.common import load_cmrc, load_tatoeba
    from vectorstore import lookup_table

    queries = [q for q, _ in load_cmrc()[1][:300]] + [q for q, _ in load_tatoeba("en-zh")[1][:300]]
    queries += [q for q, _ in load_tatoeba("zh-en")[1][:200]] + ["Running dogs studied the cities' ducks"]
    monkeypatch.setattr(lookup_table, "_folder", None)
    whole = [translator()(q).words for q in queries]
    monkeypatch.setattr(lookup_table, "_folder", tmp_path)
    assert [translator()(q).words for q in queries] == whole
    assert sum(bool(w) for w in whole) > 500
    assert [p.name.startswith("cedict-") for p in tmp_path.iterdir()] == [True]
