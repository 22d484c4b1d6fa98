"""deb_layer: .deb files to one reproducible layer, in one action of imagetool."""

load(":providers.bzl", "LayerInfo")

def _deb_layer_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + (".tar.gz" if ctx.attr.compression == "gzip" else ".tar.zst" if ctx.attr.compression == "zstd" else ".tar"))
    diffid = ctx.actions.declare_file(ctx.label.name + ".diffid")
    config = ctx.actions.declare_file(ctx.label.name + ".layer.json")
    ctx.actions.write(config, json.encode({
        "alternatives": ctx.attr.alternatives,
        "ca_certificates": ctx.attr.ca_certificates,
        "dirs": [json.decode(d) for d in ctx.attr.dirs],
        "groups": [json.decode(g) for g in ctx.attr.groups],
        "merged_usr": ctx.attr.merged_usr,
        "no_dpkg_database": not ctx.attr.dpkg_database,
        "users": [json.decode(u) for u in ctx.attr.users],
    }))
    debs = ctx.files.debs
    args = ctx.actions.args()
    args.add("-out", out)
    args.add("-diffid", diffid)
    args.add("-config", config)
    args.add("-compression", ctx.attr.compression)
    args.add("-epoch", str(ctx.attr.source_date_epoch))
    args.add_all(ctx.files.installed, before_each = "-installed")
    args.add_all(debs)
    args.use_param_file("@%s", use_always = True)
    args.set_param_file_format("multiline")
    ctx.actions.run(
        executable = ctx.executable._imagetool,
        arguments = ["layer", args],
        inputs = depset([config], transitive = [depset(debs), depset(ctx.files.installed)]),
        outputs = [out, diffid],
        mnemonic = "DebLayer",
        progress_message = "Layering %d packages into %%{output}" % len(debs),
    )
    return [DefaultInfo(files = depset([out])), LayerInfo(tar = out, diffid = diffid)]

deb_layer = rule(
    implementation = _deb_layer_impl,
    doc = """Unpacks .deb files into one reproducible layer tarball, as if dpkg had installed them.

Entries are sorted, mtimes clamped to source_date_epoch, /bin, /sbin and /lib* merged into /usr,
and the dpkg database written, so `dpkg -l` in the image lists exactly these packages. The
maintainer scripts' effects that matter (users, update-alternatives links, the CA bundle,
directories) are reproduced declaratively; no script runs.""",
    attrs = {
        "alternatives": attr.bool(default = True, doc = "Reproduce the update-alternatives links the postinst scripts register."),
        "ca_certificates": attr.bool(default = True, doc = "Generate /etc/ssl/certs/ca-certificates.crt as update-ca-certificates does."),
        "compression": attr.string(default = "gzip", values = ["gzip", "zstd", "none"], doc = "Layer compression (deterministic settings)."),
        "debs": attr.label_list(allow_files = [".deb"], mandatory = True, doc = "The packages, e.g. a set from @debs."),
        "dirs": attr.string_list(doc = "JSON objects {path, mode (octal string), owner, group}: directories to create after unpacking."),
        "dpkg_database": attr.bool(default = True, doc = "Write /var/lib/dpkg (status, info/*.list, md5sums, scripts)."),
        "groups": attr.string_list(doc = "JSON objects {name, gid, members}: groups to add."),
        "installed": attr.label_list(allow_files = [".deb"], doc = "Packages already installed in the layers below (the base image): recorded in the dpkg database and used for effects, their files not written."),
        "merged_usr": attr.bool(default = True, doc = "Rewrite /bin, /sbin, /lib* into /usr and add the compatibility symlinks."),
        "source_date_epoch": attr.int(default = 0, doc = "Clamp every mtime to this time (seconds since 1970)."),
        "users": attr.string_list(doc = "JSON objects {name, uid, gid, group, groups, gecos, home, shell, createhome}: users to add."),
        "_imagetool": attr.label(default = "//tools/cmd/imagetool", executable = True, cfg = "exec"),
    },
)
