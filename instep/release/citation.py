"""How to cite a release: CITATION.cff (Citation File Format 1.2.0) and a BibTeX entry."""

from __future__ import annotations

import re
from datetime import date

from instep.release import about


def _yaml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def citation_cff(name: str, version: str, release_date: date, synthetic: bool, homepage: str) -> str:
    title = about.TITLE + (" (synthetic demonstration data)" if synthetic else "")
    lines = [
        "cff-version: 1.2.0",
        'message: "If you use this dataset, please cite this release as below."',
        "type: dataset",
        f"title: {_yaml_string(title)}",
        f"version: {_yaml_string(version)}",
        f"date-released: {_yaml_string(release_date.isoformat())}",
        f"license: {about.LICENSE['name']}",
        f"url: {_yaml_string(homepage)}",
        "authors:",
        f"  - name: {_yaml_string(about.PUBLISHER)}",
        "identifiers:",
        "  - type: other",
        f"    value: {_yaml_string(f'urn:{name}:{version}')}",
        f"    description: {_yaml_string('Identifier of this release of the data package')}",
        "keywords:",
        *[f"  - {_yaml_string(k)}" for k in about.KEYWORDS],
    ]
    if synthetic:
        lines.append(f"abstract: {_yaml_string(about.SYNTHETIC_NOTICE)}")
    return "\n".join(lines) + "\n"


def bibtex_key(name: str, version: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", f"{name}_{version}").strip("_")


def _bibtex_escape(text: str) -> str:
    return re.sub(r"([&%$#_{}])", r"\\\1", text)


def citation_bib(name: str, version: str, release_date: date, synthetic: bool, homepage: str) -> str:
    title = about.TITLE + (" (synthetic demonstration data)" if synthetic else "")
    fields = [
        ("author", "{" + _bibtex_escape(about.PUBLISHER) + "}"),
        ("title", "{" + _bibtex_escape(title) + "}"),
        ("year", str(release_date.year)),
        ("month", str(release_date.month)),
        ("version", _bibtex_escape(version)),
        ("publisher", "{" + _bibtex_escape(about.PUBLISHER) + "}"),
        ("howpublished", "Frictionless data package"),
        ("url", homepage),
        ("note", f"Licence {about.LICENSE['name']}; release {_bibtex_escape(version)}"),
    ]
    body = ",\n".join(f"  {key} = {{{value}}}" for key, value in fields)
    return f"@misc{{{bibtex_key(name, version)},\n{body}\n}}\n"
