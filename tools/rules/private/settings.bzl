"""source_date_epoch: the one SOURCE_DATE_EPOCH of every layer and image."""

load(":providers.bzl", "SourceDateEpochInfo")

def _source_date_epoch_impl(ctx):
    if ctx.build_setting_value < 0:
        fail("%s: SOURCE_DATE_EPOCH must not be negative, got %d" % (ctx.label, ctx.build_setting_value))
    return [SourceDateEpochInfo(seconds = ctx.build_setting_value)]

source_date_epoch = rule(
    implementation = _source_date_epoch_impl,
    doc = """An int build setting: SOURCE_DATE_EPOCH in seconds since 1970.

deb_layer clamps every mtime to it and oci_image uses it for every timestamp, so the same inputs
give the same digests. Set it with --//tools/rules:source_date_epoch=SECONDS (default 0).""",
    build_setting = config.int(flag = True),
)

# The attribute through which a rule reads the setting.
SOURCE_DATE_EPOCH_ATTR = attr.label(
    default = "//tools/rules:source_date_epoch",
    providers = [SourceDateEpochInfo],
    doc = "The source_date_epoch build setting.",
)
