r"""Generate the two notebook editions of every chapter: ``reader/`` and ``student/``.

Usage: ``python tools/make_editions.py`` (``make editions``) writes both editions of every
chapter; ``python tools/make_editions.py --check`` writes nothing and fails, naming the
files, when a committed edition is stale, missing or left over (CI runs it).

The chapter sources (``chapters/NN_name.md``, executed into ``chapters/NN_name.ipynb``) are
the authoring format: MyST roles and directives, glued values, cells that exist only for the
book's build. JupyterLab, Colab, VS Code and GitHub render none of that. The editions are
the same chapters in plain Jupyter Markdown, made from the executed notebooks:

- every ``{glue:text}`` role is the glued value as the HTML book shows it;
- ``{numref}``, ``{eq}``, ``{ref}`` and ``{doc}`` are the numbers and titles the HTML book
  shows ("Fig. 3.2", "(4.3)", "Chapter 5: Building bplib"), linked to the published book
  (or, within the chapter, to the anchor beside the figure or equation);
- ``{cite:t}`` and ``{cite:p}`` are "Mazur (2015)" and "(Mazur, 2015)", and the chapter ends
  with its references;
- ``{py:func}`` and friends are code spans linked to the API reference;
- a dropdown is an HTML ``<details>`` block; a labelled display equation carries
  ``\tag{4.3}``; ``(label)=`` targets go;
- a figure made by a cell gets its number and caption below it;
- the glue calls (``bplib.book.glue`` and ``glue_number``) and their imports go, and a cell
  that exists only for the build (``remove-cell`` and holding nothing but glue calls, checks
  and names no kept cell reads) is dropped; any other hidden cell stays, collapsed;
- a cell that fails on purpose (tag ``raises-exception``) catches its error and prints it,
  so *Run all* runs to the end in Colab, where a raising cell stops it;
- a hidden cell before the first code cell installs, in Colab only, the release the
  edition was made from (the chapter sources carry no install cell: this is its one copy).

The **reader edition** (``reader/``) is all of it, solutions folded in ``<details>``. The
**student edition** (``student/``) also replaces each solution between ``### BEGIN
SOLUTION`` and ``### END SOLUTION`` by a stub (``tools/make_student.py`` says how), clears
the outputs of the exercises' answer and check cells, and drops the Solution blocks. Both
keep the stored outputs of every other cell, so figures show before anything runs.
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import make_student
import nbformat
import yaml

from chapters import ROOT, chapter_sources

READER = ROOT / "reader"
STUDENT = ROOT / "student"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPOSITORY = CONFIG["repository"]["url"].rstrip("/")
# The published book (pyproject's Documentation URL, CITATION.cff's url).
BOOK_URL = "https://bplib-book.github.io/backprop-book"
API_PAGE = f"{BOOK_URL}/chapters/api.html"


def _version() -> str:
    text = (ROOT / "bplib" / "__init__.py").read_text()
    match = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    assert match, "bplib/__init__.py has no __version__"
    return match.group(1)


VERSION = _version()
RELEASE = f"v{VERSION}"  # the git tag of a release: CONTRIBUTING says to make it
INSTALL = f"bplib-book[chapters] @ git+{REPOSITORY}@{RELEASE}"

ROLE = re.compile(r"\{(?P<role>[a-z]+(?::[a-z]+)?)\}`(?P<text>[^`]*)`")
TARGET = re.compile(r"^\((?P<label>[\w-]+)\)=\s*$")
LABELLED_EQ = re.compile(r"^\$\$\s*\((?P<label>[\w-]+)\)\s*$")
FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w-]+)\}\s*(?P<arg>.*)$")
EXPLICIT = re.compile(r"^(?P<title>.*?)\s*<(?P<target>[^<>]+)>$", re.S)


# --------------------------------------------------------------------------- the book index
@dataclass
class Chapter:
    stem: str
    number: int | None  # None: not numbered (preface, appendix)
    title: str
    labels: dict[str, str] = field(default_factory=dict)  # section label -> title
    figures: dict[str, str] = field(default_factory=dict)  # label -> "Fig. 3.2"
    equations: dict[str, str] = field(default_factory=dict)  # label -> "4.3"

    @property
    def url(self) -> str:
        return f"{BOOK_URL}/chapters/{self.stem}.html"


def _toc_numbers() -> dict[str, int | None]:
    """Chapter stem -> its number as the book shows it (numbered parts count on)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    numbers: dict[str, int | None] = {Path(toc["root"]).name: None}
    n = 0
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            stem = Path(chapter["file"]).name
            if part.get("numbered"):
                n += 1
                numbers[stem] = n
            else:
                numbers[stem] = None
    return numbers


def _figure(cell: Any) -> dict[str, str] | None:
    figure = cell.get("metadata", {}).get("mystnb", {}).get("figure")
    return figure if isinstance(figure, dict) and "caption" in figure else None


def book_index() -> dict[str, Chapter]:
    """Every page's number, title, section labels, figure and equation numbers."""
    numbers = _toc_numbers()
    index: dict[str, Chapter] = {}
    for md in sorted((ROOT / "chapters").glob("*.md")):
        text = md.read_text()
        title_match = re.search(r"^# (.+)$", text, re.M)
        chapter = Chapter(md.stem, numbers.get(md.stem), title_match[1] if title_match else md.stem)
        lines = text.splitlines()
        for i, line in enumerate(lines):
            target = TARGET.match(line)
            if target:
                following = next((x for x in lines[i + 1 :] if x.strip()), "")
                chapter.labels[target["label"]] = following.lstrip("#").strip()
        prefix = f"{chapter.number}." if chapter.number is not None else ""
        eq = 0
        for line in lines:
            labelled = LABELLED_EQ.match(line)
            if labelled:
                eq += 1
                chapter.equations[labelled["label"]] = f"{prefix}{eq}"
        nb_path = md.with_suffix(".ipynb")
        if nb_path.exists():
            nb = nbformat.read(nb_path, as_version=4)
            fig = 0
            for cell in nb.cells:
                figure = _figure(cell)
                if figure and figure.get("name"):
                    fig += 1
                    chapter.figures[figure["name"]] = f"Fig. {prefix}{fig}"
        index[md.stem] = chapter
    return index


# --------------------------------------------------------------------------- citations
@dataclass
class Reference:
    key: str
    authors: list[str]  # last names
    year: str
    entry: str  # the full reference, Markdown


def _bib() -> dict[str, Reference]:
    from pybtex.database import parse_file

    def clean(text: str) -> str:
        text = re.sub(r"\\[a-zA-Z]+\s*\{([^{}]*)\}", r"\1", text)  # \emph{x} -> x
        text = text.replace("--", "–").replace("~", " ")
        return re.sub(r"[{}]", "", text).strip()

    refs: dict[str, Reference] = {}
    for key, entry in parse_file(str(ROOT / "references.bib")).entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        last = [clean(" ".join(p.prelast_names + p.last_names)) for p in people]
        full = [
            clean(" ".join(p.first_names + p.middle_names + p.prelast_names + p.last_names))
            for p in people
        ]
        f = entry.fields
        year = clean(f.get("year", "n.d."))
        names = ", ".join(full[:-1]) + (" and " if len(full) > 1 else "") + full[-1] if full else ""
        parts = [f"{names} ({year}).", f"*{clean(f.get('title', key))}*."]
        venue = f.get("journal") or f.get("booktitle") or f.get("publisher") or f.get("school")
        if venue:
            parts.append(clean(venue) + ".")
        if f.get("url"):
            parts.append(f"<{f['url']}>")
        elif f.get("doi"):
            parts.append(f"<https://doi.org/{f['doi']}>")
        refs[key] = Reference(key, last, year, " ".join(parts))
    return refs


def _authors(ref: Reference) -> str:
    a = ref.authors
    if not a:
        return ref.key
    if len(a) == 1:
        return a[0]
    if len(a) == 2:
        return f"{a[0]} and {a[1]}"
    return f"{a[0]} et al."


# --------------------------------------------------------------------------- glue values
def glue_values(nb: Any) -> dict[str, str]:
    """Each glued name of an executed chapter -> its ``text/plain`` data."""
    values: dict[str, str] = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            scrapbook = out.get("metadata", {}).get("scrapbook", {})
            key = scrapbook.get("mime_prefix", "") + "text/plain"
            if "name" in scrapbook and key in out.get("data", {}):
                values[scrapbook["name"]] = out["data"][key]
    return values


def _is_glue_name(name: str) -> bool:
    return bool(re.match(r"^glue\w*$", name))


def _is_glue(node: ast.stmt) -> bool:
    """A top-level ``glue(...)`` call, or a loop of nothing but such calls."""
    if isinstance(node, ast.Expr):
        return _is_glue_name(_call_name(node.value))
    if isinstance(node, ast.For):
        return all(_is_glue(s) for s in node.body) and not node.orelse
    return False


def _without_glue_imports(node: ast.stmt) -> str | None:
    """For ``from m import ...`` naming ``glue`` or a ``glue_*`` helper: the statement
    without those names ("" when nothing is left); None for any other statement."""
    if not isinstance(node, ast.ImportFrom):
        return None
    kept = [a for a in node.names if not _is_glue_name(a.name)]
    if len(kept) == len(node.names):
        return None
    if not kept:
        return ""
    return ast.unparse(ast.ImportFrom(module=node.module, names=kept, level=node.level))


def strip_glue(nb: Any) -> None:
    """Remove the glue calls and the imports of ``glue`` and ``glue_*`` helpers from every
    code cell, and the (invisible) outputs the calls made.

    The editions show glued values as text, so nothing in them needs ``glue``.
    """
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = [
            o for o in cell.get("outputs", []) if "scrapbook" not in o.get("metadata", {})
        ]
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue  # IPython syntax (a magic): left as it is
        replace: dict[int, str] = {}  # first line of a statement -> what replaces it
        drop: set[int] = set()
        for node in tree.body:
            rest = _without_glue_imports(node)
            if _is_glue(node) or rest is not None:
                drop |= set(range(node.lineno - 1, node.end_lineno or node.lineno))
                if rest:
                    replace[node.lineno - 1] = rest
        if drop:
            lines = [
                replace[i] if i in replace else x
                for i, x in enumerate(cell.source.splitlines())
                if i in replace or i not in drop
            ]
            cell.source = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def glued_text(values: dict[str, str], text: str) -> str:
    """What ``{glue:text}`text``` shows in the HTML book (myst-nb's own formatting)."""
    from myst_nb.core.variables import format_plain_text

    key, _, spec = text.rpartition(":") if ":" in text else (text, "", "")
    if not key:
        key, spec = text, ""
    if key not in values:
        raise KeyError(f"{{glue:text}}`{text}`: nothing is glued under {key!r}")
    return format_plain_text(values[key], spec or "s")


# --------------------------------------------------------------------------- Markdown
class Converter:
    """Turns one chapter's MyST Markdown into plain Jupyter Markdown."""

    def __init__(
        self, stem: str, index: dict[str, Chapter], bib: dict[str, Reference], glue: dict[str, str]
    ):
        self.stem = stem
        self.index = index
        self.bib = bib
        self.glue = glue
        self.cited: list[str] = []

    # ---- references to labels
    def _find(self, label: str, kind: str) -> tuple[Chapter, str]:
        here = self.index[self.stem]
        chapters = [here] + [c for c in self.index.values() if c is not here]
        for chapter in chapters:
            table = getattr(chapter, kind)
            if label in table:
                return chapter, table[label]
        raise KeyError(f"{self.stem}: no {kind[:-1]} labelled {label!r} in the book")

    def _link(self, text: str, chapter: Chapter, anchor: str) -> str:
        if chapter.stem == self.stem:
            return f"[{text}](#{anchor})"
        return f"[{text}]({chapter.url}#{anchor})"

    def role(self, role: str, text: str) -> str:
        explicit = EXPLICIT.match(text)
        title, target = (explicit["title"], explicit["target"]) if explicit else (None, text)
        if role == "glue:text":
            return glued_text(self.glue, text)
        if role == "numref":
            chapter, number = self._find(target, "figures")
            shown = title.replace("%s", number.removeprefix("Fig. ")) if title else number
            return self._link(shown, chapter, target)
        if role == "eq":
            chapter, number = self._find(target, "equations")
            return self._link(f"({number})", chapter, target)
        if role == "ref":
            chapter, heading = self._find(target, "labels")
            if chapter.labels.get(target) == chapter.title:  # a chapter's own label
                return f"[{title or heading}]({chapter.url})"
            return f"[{title or heading}]({chapter.url}#{target})"
        if role == "doc":
            stem = Path(target).name
            chapter = self.index[stem]
            return f"[{title or chapter.title}]({chapter.url})"
        if role in ("cite:t", "cite:p"):
            # sphinxcontrib-bibtex's form: {pre}key{post} (a note before or after one key)
            note = re.match(
                r"^(?:\{(?P<pre>[^}]*)\})?(?P<keys>[^{}]+)(?:\{(?P<post>[^}]*)\})?$", text
            )
            if note is None:
                raise ValueError(f"{self.stem}: cannot read the citation {text!r}")
            keys = [k.strip() for k in note["keys"].split(",")]
            missing = [k for k in keys if k not in self.bib]
            if missing:
                raise KeyError(f"{self.stem}: unknown citation {missing}")
            self.cited += [k for k in keys if k not in self.cited]
            refs = [self.bib[k] for k in keys]
            pre = f"{note['pre']} " if note["pre"] else ""
            post = f", {note['post']}" if note["post"] else ""
            if role == "cite:t":
                return "; ".join(f"{_authors(r)} ({pre}{r.year}{post})" for r in refs)
            return "(" + pre + "; ".join(f"{_authors(r)}, {r.year}" for r in refs) + post + ")"
        if role.startswith("py:"):
            name = target.lstrip("~")
            shown = title or (name.rsplit(".", 1)[-1] if target.startswith("~") else name)
            if not title and role in ("py:func", "py:meth"):
                shown += "()"
            return f"[`{shown}`]({API_PAGE}#{name})"
        if role in ("math",):
            return f"${text}$"
        raise ValueError(f"{self.stem}: no plain-Markdown form for the role {{{role}}}")

    def inline(self, text: str) -> str:
        return ROLE.sub(lambda m: self.role(m["role"], m["text"]), text)

    # ---- blocks
    def markdown(self, source: str) -> str:
        lines = source.splitlines()
        out: list[str] = []
        i = 0
        in_code: str | None = None  # the fence of a plain code block we are in
        while i < len(lines):
            line = lines[i]
            stripped = line.strip()
            if in_code is not None:
                out.append(line)
                if stripped == in_code:
                    in_code = None
                i += 1
                continue
            fence = FENCE.match(stripped)
            if fence:
                i = self._directive(fence, lines, i, out)
                continue
            if re.match(r"^`{3,}", stripped):
                in_code = re.match(r"^`{3,}", stripped)[0]  # type: ignore[index]
                out.append(line)
                i += 1
                continue
            if TARGET.match(stripped):
                i += 1
                continue
            labelled = LABELLED_EQ.match(stripped)
            if labelled:
                label = labelled["label"]
                number = self.index[self.stem].equations[label]
                # the closing $$ of a labelled equation: the tag goes inside, the anchor before
                start = max(j for j in range(len(out)) if out[j].strip().startswith("$$"))
                out.insert(start, f'<a id="{label}"></a>')
                out.insert(start + 1, "")
                out.append(f"\\tag{{{number}}}")
                out.append("$$")
                i += 1
                continue
            out.append(self.inline(line) if "`" in line else line)
            i += 1
        return "\n".join(out)

    def _block(self, lines: list[str], i: int, fence: str) -> tuple[list[str], dict[str, str], int]:
        """The body and options of the directive opened at ``lines[i]`` by ``fence``."""
        body: list[str] = []
        options: dict[str, str] = {}
        j = i + 1
        depth_fence = fence
        while j < len(lines) and lines[j].strip() != depth_fence:
            body.append(lines[j])
            j += 1
        if j == len(lines):
            raise ValueError(f"{self.stem}: directive at line {i + 1} is not closed")
        while body and re.match(r"^:[\w-]+:", body[0]):
            name, _, value = body.pop(0)[1:].partition(":")
            options[name] = value.strip()
        return body, options, j + 1

    def _directive(self, fence: re.Match[str], lines: list[str], i: int, out: list[str]) -> int:
        name, arg = fence["name"], fence["arg"].strip()
        body, options, after = self._block(lines, i, fence["fence"])
        if name == "dropdown":
            inner = self.markdown("\n".join(body))
            out += [
                f"<details><summary>{self.inline(arg) or 'Details'}</summary>",
                "",
                inner,
                "",
                "</details>",
            ]
        elif name in ("note", "tip", "warning", "important", "hint", "seealso", "admonition"):
            heading = arg if name == "admonition" else name.capitalize()
            inner = self.markdown("\n".join(body))
            out += [f"> **{self.inline(heading)}**", ">"] + [
                f"> {x}" if x else ">" for x in inner.splitlines()
            ]
        elif name == "math":
            label = options.get("label")
            out += ["$$", *body]
            if label:
                out.append(f"\\tag{{{self.index[self.stem].equations.get(label, '')}}}")
            out.append("$$")
        else:
            raise ValueError(f"{self.stem}: no plain-Markdown form for the directive {{{name}}}")
        return after

    def references(self) -> str | None:
        if not self.cited:
            return None
        entries = sorted((self.bib[k] for k in self.cited), key=lambda r: (r.authors, r.year))
        return "## References\n\n" + "\n".join(f"- {r.entry}" for r in entries)


# --------------------------------------------------------------------------- cells
GLUE_CALL = re.compile(r"^(glue\w*|np\.testing\.\w+|assert_\w+)$")


def _call_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        return ast.unparse(node.func)
    return ""


def _build_only_statements(code: str) -> tuple[bool, set[str], set[str]]:
    """Whether ``code`` holds only glue calls, checks, imports and bindings; names bound, read."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False, set(), set()
    bound: set[str] = set()
    only = True
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a bare string or ...
        if isinstance(node, ast.Assert):
            continue
        if isinstance(node, ast.Expr) and GLUE_CALL.match(_call_name(node.value)):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
            continue
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.FunctionDef | ast.For):
            bound |= (
                set(make_student._bound(ast.unparse(node)))
                if not isinstance(node, ast.For)
                else set()
            )
            if isinstance(node, ast.For):
                # a loop of glue calls (or checks) only
                only = only and all(
                    isinstance(s, ast.Assert)
                    or (isinstance(s, ast.Expr) and GLUE_CALL.match(_call_name(s.value)))
                    for s in node.body
                )
            continue
        only = False
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    if "rng" in read:  # the chapter's one generator: dropping a draw would shift the rest
        only = False
    return only, bound, read


def _names_read(code: str) -> set[str]:
    try:
        return make_student._read(code)
    except SyntaxError:
        return set()


def build_only_cells(nb: Any) -> set[int]:
    """Indices of the cells that exist only for the book's build (see the module docstring)."""
    candidates: dict[int, set[str]] = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "remove-cell" not in cell.metadata.get("tags", []):
            continue
        if cell.source.lstrip().startswith("%xmode") or 'run_line_magic("xmode"' in cell.source:
            continue  # how tracebacks look is for readers too: kept, collapsed
        only, bound, _ = _build_only_statements(cell.source)
        if only:
            candidates[i] = bound
    changed = True
    while changed:  # a candidate that binds a name some kept cell reads is kept
        changed = False
        read_by_kept: set[str] = set()
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and i not in candidates:
                read_by_kept |= _names_read(cell.source)
        for i, bound in list(candidates.items()):
            if bound & read_by_kept:
                del candidates[i]
                changed = True
    return set(candidates)


def _raising(cell: Any) -> None:
    """A cell that fails on purpose catches its error and prints it (stored output too)."""
    body = textwrap.indent(cell.source.rstrip(), "    ")
    cell.source = (
        "try:\n" + body + "\n"
        "except Exception as error:  # this cell fails on purpose: the message is the point\n"
        '    print(f"{type(error).__name__}: {error}")'
    )
    outputs = []
    for out in cell.outputs:
        if out.output_type == "error":
            outputs.append(
                nbformat.v4.new_output("stream", name="stdout", text=f"{out.ename}: {out.evalue}\n")
            )
        else:
            outputs.append(out)
    cell.outputs = outputs
    cell.metadata["tags"] = [t for t in cell.metadata.get("tags", []) if t != "raises-exception"]


def install_cell() -> Any:
    """The edition's first code cell: in Colab (only), install the release it was made from."""
    source = (
        f"# Colab: install bplib {VERSION}, the release this notebook was made with\n"
        "# (this cell does nothing anywhere else)\n"
        "import sys\n\n"
        'if "google.colab" in sys.modules:\n'
        f'    get_ipython().run_line_magic("pip", "install --quiet \'{INSTALL}\'")'
    )
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata = {"jupyter": {"source_hidden": True}, "tags": ["remove-cell"]}
    cell.id = "colab-install"
    return cell


def _hide(cell: Any, source: bool = False, outputs: bool = False) -> None:
    jupyter = cell.metadata.setdefault("jupyter", {})
    if source:
        jupyter["source_hidden"] = True
    if outputs:
        jupyter["outputs_hidden"] = True


def dropped_cell_ids(full: Any) -> set[str]:
    """The ids of the executed chapter's cells that the editions leave out (build-only)."""
    stripped = copy.deepcopy(full)
    strip_glue(stripped)
    return {stripped.cells[i].id for i in build_only_cells(stripped)}


def edition(
    full: Any, stem: str, index: dict[str, Chapter], bib: dict[str, Reference], student: bool
) -> Any:
    """The reader (``student=False``) or student edition of the executed chapter ``full``."""
    nb = make_student.student_notebook(full) if student else copy.deepcopy(full)
    strip_glue(nb)
    dropped_ids = dropped_cell_ids(full)  # student_notebook keeps the cells' ids
    converter = Converter(stem, index, bib, glue_values(full))
    chapter = index[stem]
    answer_ids = {full.cells[a].id for a, _ in make_student.exercise_cells(full)}
    cells: list[Any] = []
    installed = False
    for cell in nb.cells:
        if cell.id in dropped_ids:
            continue
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "markdown":
            cell.source = converter.markdown(cell.source)
            if not cell.source.strip():
                continue
            cells.append(cell)
            continue
        if cell.cell_type != "code":
            cells.append(cell)
            continue
        if not installed:
            cells.append(install_cell())
            installed = True
        if "raises-exception" in tags:
            _raising(cell)
        figure = _figure(cell)
        cell.metadata.pop("mystnb", None)
        if "remove-cell" in tags:
            _hide(cell, source=True, outputs=True)
        if "remove-input" in tags or (
            "hide-input" in tags and not (student and cell.id in answer_ids)
        ):
            _hide(cell, source=True)
        if "remove-output" in tags or "hide-output" in tags:
            _hide(cell, outputs=True)
        cells.append(cell)
        if figure:
            label = figure.get("name")
            caption = converter.inline(" ".join(str(figure["caption"]).split()))
            number = chapter.figures.get(label, "Fig.") if label else "Fig."
            anchor = f'<a id="{label}"></a>' if label else ""
            caption_cell = nbformat.v4.new_markdown_cell(f"{anchor}**{number}.** {caption}")
            caption_cell.id = f"{cell.id}-caption"[:64]
            cells.append(caption_cell)
    edition_name = "student" if student else "reader"
    head = nbformat.v4.new_markdown_cell(
        f"*{CONFIG['title']}* — {edition_name} edition, made with bplib {VERSION}. "
        f"The same chapter in the HTML book: <{chapter.url}>."
        + (
            " Each exercise has a cell for your answer (a stub such as `x = ...`) and a check "
            "cell that says `Correct` or what is wrong."
            if student and answer_ids
            else ""
        )
    )
    head.id = "edition-header"
    cells.insert(0, head)
    references = converter.references()
    if references:
        ref_cell = nbformat.v4.new_markdown_cell(references)
        ref_cell.id = "edition-references"
        cells.append(ref_cell)
    nb.cells = cells
    nb.metadata.pop("jupytext", None)
    nb.metadata["bplib_edition"] = {"edition": edition_name, "chapter": stem, "bplib": VERSION}
    return nb


def render(
    md: Path,
    student: bool,
    index: dict[str, Chapter] | None = None,
    bib: dict[str, Reference] | None = None,
) -> str:
    full = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
    nb = edition(full, md.stem, index or book_index(), bib or _bib(), student)
    return nbformat.writes(nb) + "\n"


def edition_path(md: Path, student: bool) -> Path:
    return (STUDENT if student else READER) / md.with_suffix(".ipynb").name


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if reader/ or student/ is stale")
    args = parser.parse_args(argv)
    index, bib = book_index(), _bib()
    problems = []
    for student in (False, True):
        folder = STUDENT if student else READER
        wanted = {edition_path(md, student): md for md in chapter_sources()}
        for path, md in wanted.items():
            text = render(md, student, index, bib)
            current = path.read_text() if path.exists() else None
            if current == text:
                continue
            if args.check:
                problems.append(f"{path.relative_to(ROOT)} is {'stale' if current else 'missing'}")
            else:
                folder.mkdir(exist_ok=True)
                path.write_text(text)
                print(f"wrote {path.relative_to(ROOT)}")
        for path in sorted(folder.glob("*.ipynb")):
            if path not in wanted:
                if args.check:
                    problems.append(f"{path.relative_to(ROOT)} has no chapter")
                else:
                    path.unlink()
                    print(f"removed {path.relative_to(ROOT)} (no chapter of that name)")
    if problems:
        print(
            "The notebook editions are out of date; run `make editions` and commit reader/ and student/:"
        )
        print("\n".join(f"  {p}" for p in problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
