# Lists imports inside functions in a Python strategy project (argv[1]):
# componentize-py bundles what a module imports when it is loaded, so such
# an import fails inside the sandbox. Prints `file:line: ...` for each;
# tests and build folders are skipped (they are not bundled).
import ast
import pathlib
import sys

SKIP = {"tests", "test", "target", "build", "dist", "venv", ".venv", "__pycache__", "site-packages"}


def skipped(root, path):
    """Tests, build output and virtual environments are not bundled."""
    rel = path.relative_to(root)
    name = rel.parts[-1]
    if name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py":
        return True
    for i, part in enumerate(rel.parts[:-1]):
        if part in SKIP or part.startswith(".") or (root.joinpath(*rel.parts[: i + 1]) / "pyvenv.cfg").exists():
            return True
    return False


class Finder(ast.NodeVisitor):
    def __init__(self, where):
        self.where, self.stack, self.found = where, [], []

    def visit_FunctionDef(self, node):
        self.stack.append(node.name)
        self.generic_visit(node)
        self.stack.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        self.stack.append("<lambda>")
        self.generic_visit(node)
        self.stack.pop()

    def visit_Import(self, node):
        self.report(node, "import " + ", ".join(a.name for a in node.names))

    def visit_ImportFrom(self, node):
        names = ", ".join(a.name for a in node.names)
        self.report(node, f"from {'.' * node.level}{node.module or ''} import {names}")

    def report(self, node, text):
        if self.stack:
            self.found.append(f"{self.where}:{node.lineno}: `{text}` inside `{self.stack[-1]}`")


root = pathlib.Path(sys.argv[1])
found, unparsed = [], []
for path in sorted(root.rglob("*.py")):
    if skipped(root, path):
        continue
    where = path.relative_to(root)
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as e:
        unparsed.append(f"{where}:{e.lineno}: syntax error: {e.msg}")
        continue
    except UnicodeDecodeError as e:
        unparsed.append(f"{where}: not UTF-8 ({e.reason} at byte {e.start})")
        continue
    finder = Finder(where)
    finder.visit(tree)
    found += finder.found
# Exit codes the build tells apart from a crash of this script (1):
# 4 when a file does not parse (its lines first), else 3 for imports.
if unparsed:
    print("\n".join(unparsed))
    sys.exit(4)
if found:
    print("\n".join(found))
    sys.exit(3)
