"""Minimal offline stand-in for @package_metadata//rules:package_metadata.bzl."""

load("//providers:package_metadata_info.bzl", "PackageMetadataInfo")

def _package_metadata_impl(ctx):
    return [PackageMetadataInfo(purl = ctx.attr.purl, attributes = ctx.attr.attributes, metadata = None)]

_package_metadata = rule(
    implementation = _package_metadata_impl,
    doc = "Records a repository's package URL.",
    attrs = {
        "attributes": attr.label_list(doc = "Attribute targets (ignored offline)."),
        "purl": attr.string(doc = "The package URL."),
    },
)

def package_metadata(name, purl = "", attributes = [], visibility = None, **kwargs):
    """Declares package metadata for a repository.

    Args:
      name: target name.
      purl: the package URL.
      attributes: attribute targets.
      visibility: visibility of the target.
      **kwargs: passed through.
    """
    _package_metadata(name = name, purl = purl, attributes = attributes, visibility = visibility, applicable_licenses = [], **kwargs)
