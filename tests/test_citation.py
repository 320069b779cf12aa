"""LICENSE and CITATION.cff: present, valid, and in step with pyproject.toml."""

from __future__ import annotations

from pathlib import Path

import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, vendored by pip
    import pip._vendor.tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# CFF 1.2.0: the keys every citation file must have
CFF_REQUIRED = {"cff-version", "message", "title", "authors"}


def citation() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def test_citation_cff_has_the_required_keys():
    cff = citation()
    assert isinstance(cff, dict)
    missing = CFF_REQUIRED - set(cff)
    assert not missing, f"CITATION.cff lacks {sorted(missing)}"
    assert cff["cff-version"] == "1.2.0"
    assert isinstance(cff["message"], str) and cff["message"].strip()
    assert isinstance(cff["title"], str) and cff["title"].startswith("mas_lib")


def test_citation_authors_are_persons_or_entities():
    authors = citation()["authors"]
    assert isinstance(authors, list) and authors
    for author in authors:  # CFF: a person has family-names (or given-names), an entity has a name
        assert isinstance(author, dict) and ({"name", "family-names", "given-names"} & set(author)), author
    assert {"name": "mas_lib contributors"} in authors


def test_citation_version_and_license_match_pyproject():
    cff = citation()
    assert str(cff["version"]) == PROJECT["version"]
    assert cff["license"] == PROJECT["license"]


def test_license_file_is_the_licence_pyproject_names():
    assert PROJECT["license"] == "MIT"  # the text below is the MIT licence; change both together
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "MIT License"
    assert "Permission is hereby granted, free of charge" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text
