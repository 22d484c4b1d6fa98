"""Minimal offline stand-in for @package_metadata//providers:package_metadata_info.bzl."""

PackageMetadataInfo = provider(
    doc = "Package metadata (offline stand-in: carries the purl only).",
    fields = {
        "attributes": "Labels of attribute targets.",
        "metadata": "Unused offline; always None.",
        "purl": "The package URL of the repository.",
    },
)
