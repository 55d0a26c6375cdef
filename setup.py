"""Packaging for oracle-imagecopy-backup.

The scripts stay top-level modules (cron entries and DBMS_SCHEDULER programs
call them by path); they are also installed as console commands.
"""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
TOOLS = ["backup", "restore", "autorestore", "zsnapper", "exec_all", "report", "dbinfo", "zvolume"]
MODULES = sorted(
    p.stem for p in HERE.glob("*.py") if p.stem not in ("setup", "demo")
)

setup(
    name="oracle-imagecopy-backup",
    version="0.1.0",
    description="Incremental-forever Oracle backups on snapshot-capable storage, "
    "with a nightly restore test",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.9",
    py_modules=MODULES,
    packages=find_packages(include=["imagecopy", "imagecopy.*", "storage", "storage.*"]),
    # The RMAN/SQL templates (a checkout uses templates/ beside the scripts).
    data_files=[("share/oracle-imagecopy-backup/templates",
                 sorted(str(p.relative_to(HERE)) for p in (HERE / "templates").iterdir() if p.is_file()))],
    install_requires=[
        "requests>=2.25",
        "paramiko>=2.7",
        "oracledb>=1.0",
    ],
    extras_require={
        "test": [
            "pytest>=7",
            "pytest-xdist>=3",
            "sqlglot>=20",
            "ruff>=0.4",
        ],
        "netapp": ["netapp-ontap>=9.8"],
    },
    entry_points={
        "console_scripts": [
            f"{name.replace('_', '-')}={name}:cli" for name in TOOLS if name in MODULES
        ],
    },
)
