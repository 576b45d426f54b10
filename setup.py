"""Package layout: `kernels/` and `experiments/` sit beside `jaxor/` in the checkout and ship as
`jaxor.kernels` and `jaxor.experiments`, so no top-level `kernels` module is ever installed."""

from setuptools import find_namespace_packages, setup

_EXCLUDE = ["*__pycache__*"]


def _mapped(src: str, dest: str) -> list[str]:
    found = find_namespace_packages(where=".", include=[src, f"{src}.*"], exclude=_EXCLUDE)
    return [dest + name[len(src):] for name in found]


packages = find_namespace_packages(where=".", include=["jaxor", "jaxor.*"], exclude=_EXCLUDE)
packages += _mapped("kernels", "jaxor.kernels") + _mapped("experiments", "jaxor.experiments")

setup(
    packages=packages,
    package_dir={"jaxor.kernels": "kernels", "jaxor.experiments": "experiments"},
    # Data that ships: Netlib MPS files, Azure LLM traces (CC-BY-4.0), jaxor's own demo workspaces,
    # kernel READMEs. LIBSVM copies and the OR-Space sample are never copied into jaxor/.
    package_data={"": ["*.mps", "*.csv", "*.json", "*.jsonl", "*.md", "*.txt", "*.lp", "*.py.txt", "*.tex", "*.log",
                      ".gitkeep"]},
    include_package_data=False,
)
