"""The ``kiosk`` command as a technician uses it: clear output, JSON where asked, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from tests.support.cli import run_cli

SERVICES = {
    "residence-permit": "居住证申领",
    "social-security-card-replacement": "社会保障卡补换",
    "medical-insurance-enrollment": "城乡居民医保参保登记",
    "provident-fund-withdrawal": "住房公积金提取",
    "individual-business-registration": "个体工商户设立登记",
    "no-criminal-record-certificate": "无犯罪记录证明",
    "property-record-inquiry": "不动产登记资料查询",
    "senior-allowance-application": "高龄津贴申请",
}


def test_version(data_dir: Path) -> None:
    result = run_cli("--version", data_dir=data_dir)
    assert result.returncode == 0
    assert result.stdout.startswith("tongban ")


def test_catalog_list_json_names_every_service_in_both_languages(data_dir: Path) -> None:
    result = run_cli("catalog", "list", "--json", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    by_id = {r["id"]: r for r in rows}
    assert set(SERVICES) <= set(by_id)
    for service_id, name_zh in SERVICES.items():
        row = by_id[service_id]
        assert row["name_zh"] == name_zh
        assert row["name_en"] and row["version"] and row["category"]


def test_catalog_show_prints_the_guide(data_dir: Path) -> None:
    result = run_cli("catalog", "show", "residence-permit", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    for words in ("居住证申领", "申请材料", "居住证明", "法定时限: 15 个工作日", "《居住证暂行条例》"):
        assert words in result.stdout
    english = run_cli("catalog", "show", "residence-permit", "--lang", "en", data_dir=data_dir)
    assert "Legal time limit: 15 working days" in english.stdout
    as_json = json.loads(run_cli("catalog", "show", "residence-permit", "--json", data_dir=data_dir).stdout)
    assert as_json["time_limit"] == {"legal_working_days": 15, "promised_working_days": 10}


def test_example_validates_against_schema_from_the_cli(data_dir: Path) -> None:
    for service_id in SERVICES:
        example = run_cli("forms", "example", service_id, data_dir=data_dir)
        schema = run_cli("forms", "schema", service_id, data_dir=data_dir)
        assert example.returncode == 0 and schema.returncode == 0, example.stderr + schema.stderr
        jsonschema.Draft202012Validator(json.loads(schema.stdout)).validate(json.loads(example.stdout))


def test_unknown_service_is_a_clear_error(data_dir: Path) -> None:
    result = run_cli("catalog", "show", "passport", data_dir=data_dir)
    assert result.returncode == 1
    assert "no service 'passport'" in result.stderr and "residence-permit" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_broken_config_names_the_file_and_key(data_dir: Path) -> None:
    (data_dir / "kiosk.toml").write_text("[terminal]\nlanguge = 'en'\n", "utf-8")
    result = run_cli("catalog", "list", data_dir=data_dir)
    assert result.returncode == 2
    assert "kiosk.toml" in result.stderr and "languge" in result.stderr
    assert "Traceback" not in result.stderr


def test_configured_catalog_folder_is_used_and_its_errors_reported(data_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cat"
    (folder / "services").mkdir(parents=True)
    (folder / "categories.yaml").write_text("format: 1\ncategories: []\n", "utf-8")
    (folder / "services" / "x.yaml").write_text("format: 1\n", "utf-8")
    (data_dir / "kiosk.toml").write_text(f"[catalog]\npath = '{folder}'\n", "utf-8")
    result = run_cli("catalog", "list", data_dir=data_dir)
    assert result.returncode == 1
    assert f"{folder / 'services' / 'x.yaml'}: (root): 'id' is a required property" in result.stderr


def test_data_dir_from_environment(tmp_path: Path) -> None:
    target = tmp_path / "from-env"
    result = run_cli("catalog", "list", env={"KIOSK_DATA_DIR": str(target)})
    assert result.returncode == 0, result.stderr
    assert target.is_dir()


def test_each_command_loads_only_its_own_module_and_help_lists_all() -> None:
    """A kiosk restarting after a crash shows its home screen sooner when ``kiosk run`` does
    not first import the HTTP, crypto and PDF stacks of every other command."""
    import subprocess
    import sys

    from kiosk.cli import COMMAND_MODULES, build_parser

    probe = (
        "import sys; from kiosk.cli import build_parser; build_parser(sys.argv[1:]); "
        "print(sorted(m for m in sys.modules if m.startswith('kiosk.commands.')))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe, "--data-dir", "/x", "run", "--windowed"],
                            capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "['kiosk.commands.run']"
    for name in COMMAND_MODULES:
        sub = build_parser(["--data-dir", "d", name])._subparsers._group_actions[0]  # type: ignore[union-attr]
        assert list(sub.choices) == [name]
    everything = build_parser(["--help"])._subparsers._group_actions[0]  # type: ignore[union-attr]
    assert list(everything.choices) == list(COMMAND_MODULES)
