"""A failing notebook stops the build with a message naming the notebook and the cell, and the
executed notebook with the error is kept."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers.core.errors import BuildError
from helpers.report.build import build

pytestmark = [pytest.mark.pipeline]


def test_failing_cell_is_named_and_the_executed_notebook_kept(tmp_path):
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Broken\n\nA notebook that fails."),
            new_code_cell("x = 1  # help: a parameter"),
            new_code_cell("y = x + 1"),
            new_code_cell("raise ValueError('seed table has no rows')"),
        ]
    )
    nb.cells[1].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["workbook"] = {"depends": ["documents"]}
    path = tmp_path / "09-broken.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(BuildError) as err:
        build(out_dir=tmp_path / "site", work_dir=tmp_path / "work", notebooks=[path], jobs=1)
    message = str(err.value)
    assert "09-broken.ipynb" in message and "cell 3" in message
    assert "ValueError" in message and "seed table has no rows" in message
    kept = tmp_path / "work" / "executed" / "09-broken.ipynb"
    assert kept.exists()
    outputs = [
        o for c in nbformat.read(kept, as_version=4).cells if c.cell_type == "code" for o in c.get("outputs", [])
    ]
    assert any(o.get("output_type") == "error" for o in outputs)
    assert not (tmp_path / "site" / "09-broken.html").exists()


def test_an_unknown_input_group_is_named_before_anything_runs(tmp_path):
    nb = new_notebook(cells=[new_markdown_cell("# Odd\n\nDeclares an input that does not exist.")])
    nb.metadata["workbook"] = {"depends": ["seeds/manifest.csv"]}
    path = tmp_path / "09-odd.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(BuildError, match=r"09-odd.ipynb: metadata workbook.depends names 'seeds/manifest.csv'; use"):
        build(out_dir=tmp_path / "site", work_dir=tmp_path / "work", notebooks=[path], jobs=1)
    assert not (tmp_path / "work" / "executed").exists()


# ---------------------------------------------------------------- extra parameter sets


def _sets(tmp_path, text: str):
    from helpers.report.build import PARAMETER_SETS

    (tmp_path / PARAMETER_SETS).write_text(text, encoding="utf-8")
    return tmp_path / PARAMETER_SETS


def test_parameter_sets_become_sensitivity_pages(tmp_path):
    from helpers.report.build import discover, parameter_set_jobs

    notebooks = discover()
    file = _sets(
        tmp_path,
        "- {notebook: 03-clinical-evidence.ipynb, slug: sle-only, title: SLE only, parameters: {disease: SLE}}\n"
        "- {notebook: 99-missing.ipynb, slug: other, title: Other, parameters: {}}\n",
    )
    jobs = parameter_set_jobs(notebooks, file)
    assert [(j.page, j.group, j.parameters) for j in jobs] == [
        ("sensitivity/sle-only.html", "sensitivity", {"disease": "SLE"})
    ]


@pytest.mark.parametrize(
    "text,message",
    [
        ("- {notebook: 03-clinical-evidence.ipynb, slug: a, title: A}\n",
         "entry 1: needs exactly notebook, slug, title"),
        ("- {notebook: 03-clinical-evidence.ipynb, slug: Bad Slug, title: A, parameters: {}}\n", "slug 'Bad Slug'"),
        ("- {notebook: 03-clinical-evidence.ipynb, slug: a, title: A, parameters: {colour: red}}\n",
         "has no parameter(s) colour"),
        ("notebook: x\n", "expected a list of entries"),
        ("- [unclosed\n", "not valid YAML"),
    ],
)  # fmt: skip
def test_bad_parameter_sets_name_the_file_and_entry(tmp_path, text, message):
    from helpers.core.errors import BuildError
    from helpers.report.build import discover, parameter_set_jobs

    with pytest.raises(BuildError, match="parameter-sets.yaml") as info:
        parameter_set_jobs(discover(), _sets(tmp_path, text))
    assert message in str(info.value)


def test_shipped_parameter_sets_are_valid():
    from helpers.report.build import discover, parameter_set_jobs

    jobs = parameter_set_jobs(discover())
    assert jobs and all(j.page.startswith("sensitivity/") for j in jobs)
