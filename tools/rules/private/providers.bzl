"""Providers shared by the ci-images rules."""

OciImageInfo = provider(
    doc = "An OCI image built by oci_image.",
    fields = {
        "digest": "File: the manifest digest (sha256:...), one line.",
        "layout": "File (directory): the OCI image layout holding exactly this image.",
    },
)

LayerInfo = provider(
    doc = "A layer written by deb_layer, with the diff_id its writer recorded.",
    fields = {
        "diffid": "File: the diff_id (sha256 of the uncompressed tar), one line.",
        "tar": "File: the compressed layer.",
    },
)

SourceDateEpochInfo = provider(
    doc = "The value of the source_date_epoch build setting.",
    fields = {
        "seconds": "int: SOURCE_DATE_EPOCH, seconds since 1970.",
    },
)
