"""Providers shared by the ci-images rules."""

OciImageInfo = provider(
    doc = "An OCI image built by oci_image.",
    fields = {
        "digest": "File: the manifest digest (sha256:...), one line.",
        "layout": "File (directory): the OCI image layout holding exactly this image.",
    },
)
