"""A signed catalog is applied atomically; a tampered, unsigned or foreign one never is."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import yaml

from catalog import DEFAULT_CATALOG_DIR
from central.catalog_publisher import build_bundle
from central.keys import PlatformKeys, load_or_create_keys
from forms import load_catalog
from sync.catalog_update import CatalogRejected, apply_bundle, current_catalog, verify_bundle
from sync.protocol import CatalogBundle, b64encode


def envelope_for(
    folder: Path, keys: PlatformKeys, *, now: dt.datetime | None = None
) -> CatalogBundle:
    published, _ = build_bundle(folder, keys, now=now)
    return CatalogBundle(
        version=published.version,
        bundle=b64encode(published.bundle),
        signature=b64encode(published.signature),
    )


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> PlatformKeys:
    return load_or_create_keys(tmp_path_factory.mktemp("central"))


@pytest.fixture(scope="module")
def other_keys(tmp_path_factory: pytest.TempPathFactory) -> PlatformKeys:
    return load_or_create_keys(tmp_path_factory.mktemp("other-central"))


@pytest.fixture(scope="module")
def bundle(keys: PlatformKeys) -> CatalogBundle:
    return envelope_for(DEFAULT_CATALOG_DIR, keys)


def changed_catalog(tmp_path: Path) -> Path:
    """A copy of the bundled catalog with one service dropped (so a new version)."""
    folder = tmp_path / "changed"
    shutil.copytree(DEFAULT_CATALOG_DIR, folder, ignore=shutil.ignore_patterns("__*"))
    services = sorted((folder / "services").glob("*.yaml"))
    services[-1].unlink()
    return folder


def test_a_signed_bundle_becomes_a_catalog_the_forms_engine_loads(
    tmp_path: Path, keys: PlatformKeys, bundle: CatalogBundle
) -> None:
    root = tmp_path / "catalog"
    applied = apply_bundle(bundle, keys.signing_public, root, etag='"e1"', validate=load_catalog)
    catalog = load_catalog(root / "current")
    assert applied.version == bundle.version
    assert {s.id for s in catalog.services} == {
        p.stem for p in (DEFAULT_CATALOG_DIR / "services").glob("*.yaml")
    }
    assert current_catalog(root) == applied
    assert current_catalog(root).etag == '"e1"'


def test_bundle_signed_by_another_platform_is_rejected(
    tmp_path: Path, keys: PlatformKeys, other_keys: PlatformKeys, bundle: CatalogBundle
) -> None:
    foreign = envelope_for(DEFAULT_CATALOG_DIR, other_keys)
    with pytest.raises(CatalogRejected, match="does not verify"):
        apply_bundle(foreign, keys.signing_public, tmp_path / "catalog")
    assert current_catalog(tmp_path / "catalog") is None


@pytest.mark.parametrize("signature", ["", b64encode(b"\0" * 64), "not base64!"])
def test_unsigned_bundle_is_rejected(
    tmp_path: Path, keys: PlatformKeys, bundle: CatalogBundle, signature: str
) -> None:
    unsigned = bundle.model_copy(update={"signature": signature})
    with pytest.raises(CatalogRejected):
        apply_bundle(unsigned, keys.signing_public, tmp_path / "catalog")


def test_one_flipped_byte_anywhere_in_the_bundle_is_rejected(
    keys: PlatformKeys, bundle: CatalogBundle
) -> None:
    data = bytearray(bundle.bundle_bytes())
    for position in range(0, len(data), max(1, len(data) // 50)):
        tampered = bytearray(data)
        tampered[position] ^= 0x20
        with pytest.raises(CatalogRejected):
            verify_bundle(bundle.model_copy(update={"bundle": b64encode(bytes(tampered))}),
                          keys.signing_public)


def test_a_rejected_bundle_keeps_the_previous_catalog_in_use(
    tmp_path: Path, keys: PlatformKeys, other_keys: PlatformKeys, bundle: CatalogBundle
) -> None:
    root = tmp_path / "catalog"
    first = apply_bundle(bundle, keys.signing_public, root)
    newer = envelope_for(changed_catalog(tmp_path), other_keys)
    with pytest.raises(CatalogRejected):
        apply_bundle(newer, keys.signing_public, root)
    assert current_catalog(root) == first
    load_catalog(root / "current")
    assert [p.name for p in (root / "versions").iterdir()] == [bundle.version]


def test_a_signed_bundle_the_forms_engine_refuses_keeps_the_previous(
    tmp_path: Path, keys: PlatformKeys, bundle: CatalogBundle
) -> None:
    root = tmp_path / "catalog"
    first = apply_bundle(bundle, keys.signing_public, root, validate=load_catalog)

    def refuse(folder: Path) -> None:
        raise ValueError("definition uses a field type this terminal does not know")

    newer = envelope_for(changed_catalog(tmp_path), keys)
    with pytest.raises(CatalogRejected, match="does not load"):
        apply_bundle(newer, keys.signing_public, root, validate=refuse)
    assert current_catalog(root) == first
    assert not [p for p in (root / "versions").iterdir() if p.name.startswith(".")]


def test_a_newer_bundle_replaces_and_the_one_before_is_kept_aside(
    tmp_path: Path, keys: PlatformKeys, bundle: CatalogBundle
) -> None:
    root = tmp_path / "catalog"
    apply_bundle(bundle, keys.signing_public, root)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    newer = envelope_for(changed_catalog(tmp_path), keys, now=later)
    applied = apply_bundle(newer, keys.signing_public, root, validate=load_catalog)
    assert current_catalog(root) == applied
    assert sorted(p.name for p in (root / "versions").iterdir()) == sorted(
        [bundle.version, newer.version]
    )


def test_links_left_by_a_killed_update_are_removed_by_the_next(
    tmp_path: Path, keys: PlatformKeys, bundle: CatalogBundle
) -> None:
    root = tmp_path / "catalog"
    apply_bundle(bundle, keys.signing_public, root)
    # An update killed between making its temporary link and renaming it over "current".
    (root / ".current.4242.tmp").symlink_to(Path("versions") / bundle.version, target_is_directory=True)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    newer = envelope_for(changed_catalog(tmp_path), keys, now=later)
    applied = apply_bundle(newer, keys.signing_public, root)
    assert current_catalog(root) == applied
    assert sorted(p.name for p in root.iterdir()) == ["current", "versions"]


def test_an_older_bundle_cannot_roll_the_catalog_back(
    tmp_path: Path, keys: PlatformKeys
) -> None:
    root = tmp_path / "catalog"
    old = envelope_for(DEFAULT_CATALOG_DIR, keys, now=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    new = envelope_for(changed_catalog(tmp_path), keys, now=dt.datetime(2025, 6, 1, tzinfo=dt.UTC))
    apply_bundle(new, keys.signing_public, root)
    with pytest.raises(CatalogRejected, match="roll back"):
        apply_bundle(old, keys.signing_public, root)
    assert current_catalog(root).version == new.version


def test_version_not_matching_the_content_is_rejected(
    tmp_path: Path, keys: PlatformKeys, bundle: CatalogBundle
) -> None:
    content = json.loads(bundle.bundle_bytes())
    content["services"] = content["services"][:1]  # version no longer matches the content
    data = json.dumps(content).encode()
    forged = CatalogBundle(
        version=content["version"], bundle=b64encode(data), signature=b64encode(keys.sign(data))
    )
    with pytest.raises(CatalogRejected, match="content hash"):
        apply_bundle(forged, keys.signing_public, tmp_path / "catalog")


def test_a_service_id_that_is_not_a_file_name_is_rejected(
    tmp_path: Path, keys: PlatformKeys, bundle: CatalogBundle
) -> None:
    from sync.protocol import canonical_json, catalog_content_version

    content = json.loads(bundle.bundle_bytes())
    content["services"][0]["id"] = "../../escape"
    content["version"] = catalog_content_version(1, content["categories"], content["services"])
    data = canonical_json(content)
    forged = CatalogBundle(
        version=content["version"], bundle=b64encode(data), signature=b64encode(keys.sign(data))
    )
    with pytest.raises(CatalogRejected, match="safe file name"):
        apply_bundle(forged, keys.signing_public, tmp_path / "catalog")
    assert not (tmp_path / "escape.yaml").exists()


def test_written_definitions_round_trip_exactly(
    tmp_path: Path, keys: PlatformKeys, bundle: CatalogBundle
) -> None:
    root = tmp_path / "catalog"
    apply_bundle(bundle, keys.signing_public, root)
    content = json.loads(bundle.bundle_bytes())
    for service in content["services"]:
        written = yaml.safe_load((root / "current" / "services" / f"{service['id']}.yaml")
                                 .read_text("utf-8"))
        assert written == service
