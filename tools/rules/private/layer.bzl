"""deb_layer: .deb files to one reproducible layer, in one action of imagetool."""

load(":providers.bzl", "LayerInfo", "SourceDateEpochInfo")
load(":settings.bzl", "SOURCE_DATE_EPOCH_ATTR")

def _deb_layer_impl(ctx):
    out = ctx.outputs.out
    diffid = ctx.actions.declare_file(ctx.label.name + ".diffid")
    config = ctx.actions.declare_file(ctx.label.name + ".layer.json")
    ctx.actions.write(config, ctx.attr.config)
    args = ctx.actions.args()
    args.add("-out", out)
    args.add("-diffid", diffid)
    args.add("-config", config)
    args.add("-epoch", str(ctx.attr._source_date_epoch[SourceDateEpochInfo].seconds))
    args.add_all(ctx.files.installed, before_each = "-installed")
    args.add_all(ctx.files.debs)
    args.use_param_file("@%s", use_always = True)
    args.set_param_file_format("multiline")
    ctx.actions.run(
        executable = ctx.executable._imagetool,
        arguments = ["layer", args],
        inputs = depset([config], transitive = [depset(ctx.files.debs), depset(ctx.files.installed)]),
        outputs = [out, diffid],
        mnemonic = "DebLayer",
        progress_message = "Layering %d packages into %%{output}" % len(ctx.files.debs),
    )
    return [DefaultInfo(files = depset([out])), LayerInfo(tar = out, diffid = diffid)]

deb_layer = rule(
    implementation = _deb_layer_impl,
    doc = """Unpacks .deb files into one reproducible layer tarball, as if dpkg had installed them.

Use the deb_layer macro of //tools/rules:defs.bzl, which writes `config`. Entries are sorted,
mtimes clamped to the source_date_epoch build setting, /bin, /sbin and /lib* merged into /usr,
and the dpkg database written, so `dpkg -l` in the image lists exactly these packages. The
maintainer scripts run in imagetool's shell interpreter, every command they call emulated
(tools/maintscript): no program of the image or the host runs.""",
    attrs = {
        "config": attr.string(mandatory = True, doc = "The layer configuration: JSON of layer.Config (tools/layer/layer.go), as the deb_layer macro encodes it."),
        "debs": attr.label_list(allow_files = [".deb"], mandatory = True, doc = "The packages, e.g. a set from @debs."),
        "installed": attr.label_list(allow_files = [".deb"], doc = "Packages already installed in the layers below (the base image): recorded in the dpkg database and used for effects, their files not written."),
        "out": attr.output(mandatory = True, doc = "The layer file; its extension matches the configured compression."),
        "_imagetool": attr.label(default = "//tools/cmd/imagetool", executable = True, cfg = "exec", doc = "The imagetool binary."),
        "_source_date_epoch": SOURCE_DATE_EPOCH_ATTR,
    },
)
