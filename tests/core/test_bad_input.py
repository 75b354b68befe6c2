"""Broken or hostile YAML: a clear problem at its exact position, never a crash or a hang."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

from generator.load import MAX_FILE_BYTES, load_catalog, locate
from generator.structure.kinds import SchemaRegistry
from generator.validate import validate_catalog

from .conftest import SERVICE, shared_registry, write


def problems_of(root: Path) -> list[tuple[str, int, int, str]]:
    result = validate_catalog(root, shared_registry(), display_root="catalog")
    return [(p.file, p.line, p.column, p.rule) for p in result.problems]


def messages_of(root: Path) -> list[str]:
    result = validate_catalog(root, shared_registry(), display_root="catalog")
    return [p.message for p in result.problems]


def test_yaml_syntax_error_is_reported_at_its_line(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", """
        apiVersion: gantry.io/v1
        kind: Service
        metadata:
          name: [unclosed
        spec: {}
    """)
    assert problems_of(tmp_path) == [("catalog/a.yaml", 5, 5, "yaml-syntax")]
    assert messages_of(tmp_path) == [
        "YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence "
        "that starts at line 4, column 9)"]


def test_tab_indentation_is_named(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "apiVersion: gantry.io/v1\nmetadata:\n\tname: x\n")
    assert problems_of(tmp_path) == [("catalog/a.yaml", 3, 1, "yaml-syntax")]
    assert messages_of(tmp_path) == [
        "YAML syntax error: found a tab character; YAML indentation must use spaces"]


def test_duplicate_mapping_key_points_at_the_second_one(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", """
        apiVersion: gantry.io/v1
        kind: Service
        metadata:
          name: payment-api
          name: other
        spec:
          type: backend
          lifecycle: production
    """)
    result = validate_catalog(tmp_path, shared_registry(), display_root="catalog")
    assert [(p.line, p.column, p.rule) for p in result.problems] == [
        (5, 3, "yaml-duplicate-key")]
    assert "duplicate key 'name' (first defined at line 4)" in result.problems[0].message


def test_non_mapping_document(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "---\n- just\n- a list\n---\nplain words\n")
    assert problems_of(tmp_path) == [("catalog/a.yaml", 2, 1, "not-a-mapping"),
                                     ("catalog/a.yaml", 5, 1, "not-a-mapping")]
    assert "document is a list" in messages_of(tmp_path)[0]


def test_non_utf8_bytes_are_located(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", b"apiVersion: gantry.io/v1\nkind: Serv\xe9ice\n")
    assert problems_of(tmp_path) == [("catalog/a.yaml", 2, 11, "encoding")]
    assert "0xe9" in messages_of(tmp_path)[0]


def test_python_tags_are_refused_and_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    write(tmp_path, "cat/a.yaml", f"""
        apiVersion: gantry.io/v1
        kind: !!python/object/apply:os.system ["touch {marker}"]
        metadata:
          name: !!python/name:os.getcwd
        spec:
          type: !!python/object/new:pathlib.Path ["{marker}"]
    """)
    result = validate_catalog(tmp_path / "cat", shared_registry(), display_root="catalog")
    tags = [(p.line, p.rule) for p in result.problems if p.rule == "yaml-tag"]
    assert tags == [(2, "yaml-tag"), (4, "yaml-tag"), (6, "yaml-tag")]
    assert "!!python/object/apply:os.system" in result.problems[0].message
    assert not marker.exists()
    # The refused values read as null; they are not reported a second time at the same place.
    assert not any(p.line == 2 and p.rule != "yaml-tag" for p in result.problems)


def test_alias_bomb_is_refused_quickly(tmp_path: Path, registry: SchemaRegistry) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    write(tmp_path, "a.yaml", "apiVersion: gantry.io/v1\n" + "\n".join(lines) + "\n")
    started = time.process_time()  # CPU time: other tests running in parallel do not count
    result = validate_catalog(tmp_path, registry)
    elapsed = time.process_time() - started
    assert elapsed < 0.5, f"alias bomb took {elapsed:.2f}s of CPU"
    assert [(p.line, p.rule) for p in result.problems] == [(2, "yaml-too-large")]


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "apiVersion: gantry.io/v1\nspec: " + "[" * 5000 + "]" * 5000 + "\n")
    found = problems_of(tmp_path)
    assert [(line, rule) for _file, line, _col, rule in found] == [(2, "yaml-too-deep")]


def test_deep_block_nesting_is_refused(tmp_path: Path) -> None:
    """Indentation alone, no brackets: refused by Gantry's limit or by the parser's own."""
    levels = "".join("  " * depth + "a:\n" for depth in range(1, 1200))
    write(tmp_path, "a.yaml", "apiVersion: gantry.io/v1\nspec:\n" + levels + "  " * 1200 + "x\n")
    found = problems_of(tmp_path)
    assert [rule for *_rest, rule in found] == ["yaml-too-deep"]
    assert 2 < found[0][1] <= 1203


def test_very_large_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    found = problems_of(tmp_path)
    assert found == [("catalog/big.yaml", 1, 1, "file-too-large")]
    assert "split it" in messages_of(tmp_path)[0]


def test_empty_files_and_documents_are_not_errors(tmp_path: Path) -> None:
    write(tmp_path, "empty.yaml", "")
    write(tmp_path, "comments.yml", "# nothing here yet\n")
    write(tmp_path, "multi.yaml", "---\n---\n" + textwrap.dedent(SERVICE).replace(
        "  owner: platform-team\n", ""))
    result = validate_catalog(tmp_path, shared_registry())
    assert [p.rule for p in result.problems] == []
    assert len(result.entities) == 1
    assert (result.entities[0].doc_index, result.entities[0].line) == (1, 4)
    assert locate(tmp_path, result.entities[0], ("spec", "lifecycle")) == (10, 14)


def test_multi_document_positions_and_locate(tmp_path: Path) -> None:
    write(tmp_path, "all.yaml", """
        # two services in one file
        apiVersion: gantry.io/v1
        kind: Service
        metadata:
          name: first
        spec:
          type: backend
          lifecycle: production
        ---
        apiVersion: gantry.io/v1
        kind: Service
        metadata:
          name: second
        spec:
          type: worker
          lifecycle: production
    """)
    loaded = load_catalog(tmp_path)
    first, second = loaded.entities
    assert (first.line, second.line, second.doc_index) == (2, 10, 1)
    assert locate(tmp_path, second, ("spec", "type")) == (15, 9)
    assert locate(tmp_path, second, ("spec", "type"), key=True) == (15, 3)
    assert locate(tmp_path, second, ("spec", "missing", 3)) == (15, 3)


def test_hidden_folders_and_other_files_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, ".git/config.yaml", "not: [valid")
    write(tmp_path, "README.md", "# docs")
    write(tmp_path, "Service/x.json", "{}")
    assert validate_catalog(tmp_path, shared_registry()).files == {}
